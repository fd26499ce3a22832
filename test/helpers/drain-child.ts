/**
 * Child process for the reconciler crash test: opens a bus on an existing
 * spool and drains it into the primary, printing progress, until killed.
 * Usage: node --import tsx drain-child.ts <endpoint> <stream> <spoolDir> <recordsPerSecond>
 */
import { pino } from 'pino';
import { createBus } from '../../src/bus/create-bus.js';
import { FAKE_CREDENTIALS } from '../../src/drill/kinesis-admin.js';

const [endpoint, stream, dir, pace] = process.argv.slice(2) as [string, string, string, string];
const bus = await createBus(
  {
    primary: { kind: 'kinesis', region: 'us-east-1', stream, endpoint, credentials: FAKE_CREDENTIALS },
    spool: { kind: 'disk', dir },
    reconciler: { enabled: false, maxRecordsPerSecond: Number(pace), maxBytesPerSecond: 1e9, windowRecords: 200, uncertainSettleMs: 200 },
  },
  { logger: pino({ level: 'silent' }) },
);
bus.events.on('reconciler.progress', (p) => process.stdout.write(`progress ${p.written}\n`));
for (;;) {
  const summary = await bus.reconcile();
  if (!summary.error && summary.written === 0) break;
}
process.stdout.write('done\n');
await bus.close();
