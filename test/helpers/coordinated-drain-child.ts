/**
 * Child process for the coordination takeover test: a producer process with
 * its own spool dir whose reconciler runs by itself, coordinated through
 * Redis. Prints `lease <ms since epoch>` when it takes the drain lease,
 * `progress <written>` as it drains, and `done <written> <error?>` after each run.
 * Usage: node --import tsx coordinated-drain-child.ts <json args>
 *   { east, west, eastName, westName, stream, dir, coordinationPrefix, dedupePrefix, leaseMs, pace }
 */
import { pino } from 'pino';
import { createBus } from '../../src/bus/create-bus.js';
import type { BusConfigInput } from '../../src/config/schema.js';
import { FAKE_CREDENTIALS } from '../../src/drill/kinesis-admin.js';

const a = JSON.parse(process.argv[2] as string) as Record<string, string | number>;
const out = (line: string): void => void process.stdout.write(`${line}\n`);
// The coordinator's "Took the drain lease" log line is the signal the test waits for.
const logger = pino(
  { level: 'info' },
  {
    write(line: string) {
      const entry = JSON.parse(line) as { msg?: string };
      if (entry.msg?.startsWith('Took the drain lease')) out(`lease ${Date.now()}`);
    },
  },
);
const bus = await createBus(
  {
    primary: { kind: 'kinesis', region: a.eastName, stream: a.stream, endpoint: a.east, credentials: FAKE_CREDENTIALS, requestTimeoutMs: 2_000 },
    secondaries: [{ kind: 'kinesis', region: a.westName, stream: a.stream, endpoint: a.west, credentials: FAKE_CREDENTIALS, requestTimeoutMs: 2_000 }],
    spool: { kind: 'disk', dir: a.dir },
    reconciler: { enabled: true, intervalMs: 200, maxRecordsPerSecond: Number(a.pace), maxBytesPerSecond: 1e9, windowRecords: 50, uncertainSettleMs: 200 },
    coordination: { kind: 'redis', url: 'redis://127.0.0.1:6379', keyPrefix: a.coordinationPrefix, leaseMs: Number(a.leaseMs) },
    dedupe: { kind: 'redis', url: 'redis://127.0.0.1:6379', keyPrefix: a.dedupePrefix },
  } as BusConfigInput,
  { logger },
);
bus.events.on('reconciler.progress', (p) => out(`progress ${p.written}`));
bus.events.on('reconciler.done', (s) => out(`done ${s.written} ${s.error ?? ''}`.trim()));
out('ready');
process.on('SIGTERM', () => void bus.close().finally(() => process.exit(0)));
// The bus's timers do not hold the process open; the test ends it with SIGKILL or SIGTERM.
setInterval(() => undefined, 1 << 30);
