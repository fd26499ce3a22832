/**
 * The drill's child process: a bus the parent can SIGKILL.
 *
 * Usage: bus-child <produce|drain> <config.json> <acks file> <rate> <first seq>
 * - `produce`: sends at `rate` until stdin says `stop`, then waits for the reconciler to drain and exits.
 *   stdin `phase NAME` labels records sent from then on.
 * - `drain`: runs the reconciler (records per second from the config) until nothing is left, then exits.
 * stdout lines: `ready`, `sample {json}`, `drain {json}` (a finished run), `progress` (a window written),
 * `mark text`, `drained`.
 *
 * Invariants:
 * - A record's line is in the acks file (written and fdatasync'd) only after its `send()` resolved; the
 *   parent counts as acknowledged exactly the lines it finds, so a kill can only make it know less, never more.
 */
import { closeSync, fdatasyncSync, openSync, writeSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { createInterface } from 'node:readline';
import { pino } from 'pino';
import { createBus } from '../bus/create-bus.js';
import type { BusConfigInput } from '../config/schema.js';
import { DEFAULT_LOAD, type SentRecord, SteadyLoad } from './load.js';
import { awaitDrained, watchBus } from './observe.js';

const [mode, configFile, ackFile, rate, firstSeq] = process.argv.slice(2) as [string, string, string, string, string];
const config = JSON.parse(await readFile(configFile, 'utf8')) as BusConfigInput;
const bus = await createBus(config, { logger: pino({ level: process.env.SPILLWAY_DRILL_CHILD_LOG ?? 'silent' }, pino.destination(2)) });
const out = (line: string): boolean => process.stdout.write(`${line}\n`);
const stopWatching = watchBus(bus, {
  sample: (s) => out(`sample ${JSON.stringify(s)}`),
  drain: (d) => out(`drain ${JSON.stringify(d)}`),
  progress: () => out('progress'),
  mark: (w) => out(`mark ${w}`),
});
out('ready');

if (mode === 'drain') {
  for (;;) {
    const summary = await bus.reconcile();
    if (!summary.error && summary.written === 0 && (await bus.stats()).spool.records === 0) break;
  }
} else {
  const fd = openSync(ackFile, 'a');
  const pending: string[] = [];
  const flush = (): void => {
    if (pending.length === 0) return;
    writeSync(fd, pending.splice(0).join(''));
    fdatasyncSync(fd);
  };
  const flusher = setInterval(flush, 10);
  const load = new SteadyLoad((input) => bus.send(input), { rate: Number(rate), ...DEFAULT_LOAD, firstSeq: Number(firstSeq) });
  load.onSettled = (r: SentRecord) => void pending.push(`${JSON.stringify(r)}\n`);
  load.start();
  const stdin = createInterface({ input: process.stdin });
  await new Promise<void>((resolve) => {
    stdin.on('line', (line) => {
      if (line.startsWith('phase ')) load.phase = line.slice(6);
      if (line === 'stop') resolve();
    });
  });
  await load.stop();
  clearInterval(flusher);
  flush();
  closeSync(fd);
  await awaitDrained(bus, 120_000);
  stdin.close();
}
stopWatching();
await bus.close();
out('drained');
