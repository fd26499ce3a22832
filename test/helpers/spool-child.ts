/**
 * Child process for the disk spool crash test. Opens the spool in argv[2]
 * and runs, until killed: several writers appending batches of records with
 * unique ids, and one consumer leasing and acknowledging in order.
 *
 * stdout, one line per id, printed only after the operation resolved:
 *   stored <id>     the append holding <id> resolved (it is durable)
 *   leased <id>     <id> was leased; printed before its ack starts, so an id
 *                   not listed here was certainly never acknowledged
 *   consumed <id>   the ack holding <id> resolved (it must never come back)
 *
 * Bundled to plain ESM by the test (no TypeScript loader is installed).
 */
import { createDiskSpool } from '../../adapters/disk/disk-spool.js';
import { crashRecord, crashRecordId } from './spool-crash-records.js';

const [dir, roundArg, segmentArg] = process.argv.slice(2);
if (dir === undefined || roundArg === undefined) throw new Error('usage: spool-child <dir> <round> [maxSegmentBytes]');
const round = Number(roundArg);
const spool = await createDiskSpool({ dir, maxSegmentBytes: Number(segmentArg ?? 16_384) });
const print = (verb: string, ids: readonly string[]): void => {
  process.stdout.write(ids.map((id) => `${verb} ${id}\n`).join(''));
};

async function writer(w: number): Promise<never> {
  for (let seq = 0, n = 0; ; n += 1) {
    const batch = Array.from({ length: 1 + ((n * 7 + w) % 13) }, () => crashRecord(crashRecordId(round, w, seq++)));
    await spool.append(batch);
    print('stored', batch.map((e) => e.id));
  }
}

async function consumer(): Promise<never> {
  for (;;) {
    const lease = await spool.lease(5);
    if (lease.envelopes.length === 0) {
      await new Promise((resolve) => setImmediate(resolve));
      continue;
    }
    print('leased', lease.envelopes.map((e) => e.id));
    await spool.ack(lease);
    print('consumed', lease.envelopes.map((e) => e.id));
  }
}

process.stdout.write('ready\n');
await Promise.all([writer(0), writer(1), writer(2), consumer()]);
