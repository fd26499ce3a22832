/**
 * Model-based test of the disk spool with crashes: random sequences of
 * append, lease, ack and "crash" steps. A crash fires appends and an ack
 * without waiting, lets them run for a random number of turns, then cuts the
 * disk off (every write and sync through the io seam fails from then on, as
 * if the machine stopped), closes what is left and reopens the directory.
 *
 * After every reopen:
 * - nothing lost: every record whose append resolved and that was never put
 *   in an ack is there;
 * - nothing acked comes back: no record of the contiguous prefix of
 *   definitely acknowledged records (acks that resolved) is there;
 * - nothing invented or doubled: every record there was appended (its append
 *   resolved, or was cut off and may or may not have landed), once, in
 *   append order.
 */
import fc from 'fast-check';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { createDiskSpool, type DiskSpool } from '../../adapters/disk/index.js';
import type { Lease } from '../../src/contracts/spool.js';
import type { Envelope } from '../../src/envelope/types.js';
import { fsError, replaceDiskIo } from '../helpers/spool-faults.js';
import { makeEnvelope, makeTempDir } from '../helpers/spool-fixtures.js';

type Op =
  | { type: 'append'; count: number }
  | { type: 'lease'; max: number }
  | { type: 'ack'; pick: number }
  | { type: 'crash'; appends: number; ack: boolean; turns: number };

const opArb: fc.Arbitrary<Op> = fc.oneof(
  { weight: 4, arbitrary: fc.record({ type: fc.constant('append' as const), count: fc.integer({ min: 1, max: 5 }) }) },
  { weight: 3, arbitrary: fc.record({ type: fc.constant('lease' as const), max: fc.integer({ min: 1, max: 8 }) }) },
  { weight: 3, arbitrary: fc.record({ type: fc.constant('ack' as const), pick: fc.nat() }) },
  {
    weight: 1,
    arbitrary: fc.record({ type: fc.constant('crash' as const), appends: fc.integer({ min: 0, max: 4 }), ack: fc.boolean(), turns: fc.integer({ min: 0, max: 12 }) }),
  },
);

let crashed = false;
const undo: Array<() => void> = [];
const cut = (): never => {
  throw fsError('EIO', 'EIO: the machine stopped (simulated crash)');
};
undo.push(
  replaceDiskIo('writeSegment', (o) => (h, b, f) => (crashed ? Promise.reject(fsError('EIO')) : o(h, b, f))),
  replaceDiskIo('syncSegment', (o) => (h, f) => (crashed ? Promise.resolve().then(cut) : o(h, f))),
  replaceDiskIo('syncFile', (o) => (h, f) => (crashed ? Promise.resolve().then(cut) : o(h, f))),
  replaceDiskIo('syncDir', (o) => (d) => (crashed ? Promise.resolve().then(cut) : o(d))),
  replaceDiskIo('fsyncDirAfterCreate', (o) => (d) => (crashed ? Promise.resolve().then(cut) : o(d))),
);
afterEach(() => {
  crashed = false;
});
process.on('exit', () => undo.forEach((fn) => fn()));

interface Rec {
  readonly envelope: Envelope;
  /** 'stored': its append resolved; 'maybe': its append was cut off by a crash. */
  landed: 'stored' | 'maybe';
  ack: 'none' | 'acked' | 'uncertain';
}

const silent = pino({ level: 'silent' });

async function runScenario(ops: readonly Op[]): Promise<void> {
  const { dir, cleanup } = await makeTempDir('crash-model');
  const open = (): Promise<DiskSpool> => createDiskSpool({ dir, maxSegmentBytes: 600, logger: silent });
  let spool = await open();
  let recs: Rec[] = [];
  let leases: Array<{ lease: Lease; recs: Rec[] }> = [];
  let next = 0;
  const byId = new Map<string, Rec>();
  const newBatch = (count: number): Envelope[] => Array.from({ length: count }, () => makeEnvelope(next++, 'cm', 40));
  try {
    for (const op of ops) {
      if (op.type === 'append') {
        const batch = newBatch(op.count);
        await spool.append(batch);
        for (const envelope of batch) byId.set(envelope.id, recs[recs.push({ envelope, landed: 'stored', ack: 'none' }) - 1]!);
      } else if (op.type === 'lease') {
        const lease = await spool.lease(op.max);
        if (lease.envelopes.length > 0) leases.push({ lease, recs: lease.envelopes.map((e) => byId.get(e.id)!) });
      } else if (op.type === 'ack') {
        if (leases.length === 0) continue;
        const [taken] = leases.splice(op.pick % leases.length, 1);
        await spool.ack(taken!.lease);
        for (const r of taken!.recs) r.ack = 'acked';
      } else {
        const inflight: Array<Promise<void>> = [];
        for (let k = 0; k < op.appends; k += 1) {
          const batch = newBatch(1 + (k % 3));
          const added = batch.map((envelope) => recs[recs.push({ envelope, landed: 'maybe', ack: 'none' }) - 1]!);
          for (const r of added) byId.set(r.envelope.id, r);
          inflight.push(spool.append(batch).then(() => added.forEach((r) => (r.landed = 'stored')), () => undefined));
        }
        if (op.ack && leases.length > 0) {
          const taken = leases.shift()!;
          for (const r of taken.recs) r.ack = 'uncertain';
          inflight.push(spool.ack(taken.lease).then(() => taken.recs.forEach((r) => (r.ack = 'acked')), () => undefined));
        }
        for (let t = 0; t < op.turns; t += 1) await new Promise((resolve) => setImmediate(resolve));
        crashed = true;
        await Promise.all(inflight);
        await spool.close().catch(() => undefined);
        crashed = false;
        spool = await open();
        ({ recs, leases } = await checkAfterReopen(spool, recs, byId));
      }
    }
  } finally {
    crashed = false;
    await spool.close().catch(() => undefined);
    await cleanup();
  }
}

/** Check the three properties against what the reopened spool holds; the model becomes what is there. */
async function checkAfterReopen(spool: DiskSpool, recs: readonly Rec[], byId: Map<string, Rec>): Promise<{ recs: Rec[]; leases: [] }> {
  const there: string[] = [];
  const leased: Lease[] = [];
  for (let lease = await spool.lease(50); lease.envelopes.length > 0; lease = await spool.lease(50)) {
    there.push(...lease.envelopes.map((e) => e.id));
    leased.push(lease);
  }
  for (const lease of leased) await spool.release(lease);
  const present = new Set(there);
  expect(present.size, 'no record twice').toBe(there.length);
  const prefixEnd = recs.findIndex((r) => r.ack !== 'acked');
  const gone = new Set(recs.slice(0, prefixEnd === -1 ? recs.length : prefixEnd).map((r) => r.envelope.id));
  for (const r of recs) {
    if (r.landed === 'stored' && r.ack === 'none') expect(present.has(r.envelope.id), `stored ${r.envelope.id} was lost`).toBe(true);
    if (gone.has(r.envelope.id)) expect(present.has(r.envelope.id), `acknowledged ${r.envelope.id} came back`).toBe(false);
  }
  const order = recs.map((r) => r.envelope.id);
  let last = -1;
  for (const id of there) {
    expect(byId.has(id), `${id} was never appended`).toBe(true);
    const at = order.indexOf(id);
    expect(at, `${id} out of append order`).toBeGreaterThan(last);
    last = at;
  }
  expect((await spool.stats()).records).toBe(there.length);
  const fresh = there.map((id): Rec => ({ envelope: byId.get(id)!.envelope, landed: 'stored', ack: 'none' }));
  for (const r of fresh) byId.set(r.envelope.id, r);
  return { recs: fresh, leases: [] };
}

describe('disk spool model with crashes', () => {
  it('loses nothing stored and brings back nothing acknowledged across random crashes', async () => {
    await fc.assert(fc.asyncProperty(fc.array(opArb, { minLength: 1, maxLength: 40 }), runScenario), { numRuns: 60 });
  }, 120_000);
});
