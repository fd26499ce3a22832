/**
 * Child process for the disk spool crash test. Opens the spool in argv[2]
 * and runs, until killed: several writers appending batches of records with
 * unique ids, and one consumer leasing and acknowledging in order.
 *
 * The report, one line per id, written only after the operation resolved:
 *   stored <id>     the append holding <id> resolved (it is durable)
 *   leased <id>     <id> was leased; written before its ack starts, so an id
 *                   not listed here was certainly never acknowledged
 *   consumed <id>   the ack holding <id> resolved (it must never come back)
 *
 * The lines go to the journal file in argv[5] with a synchronous write(2)
 * that has returned before the next step starts, so a SIGKILL cannot take
 * back a line whose step went ahead (the page cache outlives the process).
 * The same lines go to stdout as progress only: on Linux a write to a pipe
 * the parent is slow to drain is queued inside this process and lost with
 * it, so stdout can miss a `leased` line whose ack landed.
 *
 * Bundled to plain ESM by the test (no TypeScript loader is installed).
 */
import { openSync, writeSync } from 'node:fs';
import { createDiskSpool } from '../../adapters/disk/disk-spool.js';
import { crashRecord, crashRecordId } from './spool-crash-records.js';

const [dir, roundArg, segmentArg, journalArg] = process.argv.slice(2);
if (dir === undefined || roundArg === undefined || segmentArg === undefined || journalArg === undefined) {
  throw new Error('usage: spool-child <dir> <round> <maxSegmentBytes> <journal file>');
}
const round = Number(roundArg);
const journal = openSync(journalArg, 'a', 0o600);
const spool = await createDiskSpool({ dir, maxSegmentBytes: Number(segmentArg) });
const print = (verb: string, ids: readonly string[]): void => {
  const text = Buffer.from(ids.map((id) => `${verb} ${id}\n`).join(''));
  for (let done = 0; done < text.length; ) done += writeSync(journal, text, done);
  process.stdout.write(text);
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
