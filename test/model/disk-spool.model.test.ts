/**
 * Model-based test of the disk spool: random sequences of append, lease, ack,
 * release and reopen, checked step by step against an array model.
 *
 * The model follows the spool's contract: leases hand out the oldest ready
 * records; after a reopen every record not in the contiguous acknowledged
 * prefix is ready again (an ack beyond the prefix is not durable), and
 * nothing in that prefix ever comes back.
 */
import { readdir } from 'node:fs/promises';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createDiskSpool, type DiskSpool } from '../../adapters/disk/index.js';
import type { Lease } from '../../src/contracts/spool.js';
import type { Envelope } from '../../src/envelope/types.js';
import { makeEnvelope, makeTempDir, plain } from '../helpers/spool-fixtures.js';

type Op =
  | { type: 'append'; count: number; size: number }
  | { type: 'lease'; max: number }
  | { type: 'ack'; pick: number }
  | { type: 'release'; pick: number }
  | { type: 'reopen' };

const opArb: fc.Arbitrary<Op> = fc.oneof(
  { weight: 4, arbitrary: fc.record({ type: fc.constant('append' as const), count: fc.integer({ min: 1, max: 6 }), size: fc.integer({ min: 1, max: 300 }) }) },
  { weight: 4, arbitrary: fc.record({ type: fc.constant('lease' as const), max: fc.integer({ min: 1, max: 8 }) }) },
  { weight: 3, arbitrary: fc.record({ type: fc.constant('ack' as const), pick: fc.nat() }) },
  { weight: 2, arbitrary: fc.record({ type: fc.constant('release' as const), pick: fc.nat() }) },
  { weight: 1, arbitrary: fc.constant({ type: 'reopen' as const }) },
);

interface ModelRecord {
  readonly envelope: Envelope;
  state: 'ready' | 'leased' | 'acked';
}

class Model {
  records: ModelRecord[] = [];
  leases: Array<{ lease: Lease; records: ModelRecord[] }> = [];

  lease(max: number): ModelRecord[] {
    const out = this.records.filter((r) => r.state === 'ready').slice(0, max);
    for (const r of out) r.state = 'leased';
    return out;
  }

  settle(pick: number, to: 'acked' | 'ready'): Lease | undefined {
    if (this.leases.length === 0) return undefined;
    const [taken] = this.leases.splice(pick % this.leases.length, 1);
    for (const r of taken!.records) r.state = to;
    return taken!.lease;
  }

  /** A restart: the acknowledged prefix is gone for good, everything else is ready again. */
  reopen(): void {
    const prefix = this.records.findIndex((r) => r.state !== 'acked');
    this.records = prefix === -1 ? [] : this.records.slice(prefix);
    for (const r of this.records) r.state = 'ready';
    this.leases = [];
  }

  unacked(): number {
    return this.records.filter((r) => r.state !== 'acked').length;
  }
}

async function runScenario(ops: readonly Op[]): Promise<void> {
  const { dir, cleanup } = await makeTempDir('model');
  const open = (): Promise<DiskSpool> => createDiskSpool({ dir, maxSegmentBytes: 700 });
  let spool = await open();
  const model = new Model();
  let next = 0;
  try {
    for (const op of ops) {
      if (op.type === 'append') {
        const batch = Array.from({ length: op.count }, () => makeEnvelope(next++, 'm', op.size));
        await spool.append(batch);
        model.records.push(...batch.map((envelope) => ({ envelope, state: 'ready' as const })));
      } else if (op.type === 'lease') {
        const lease = await spool.lease(op.max);
        const expected = model.lease(op.max);
        expect(lease.envelopes.map(plain)).toEqual(expected.map((r) => plain(r.envelope)));
        if (expected.length > 0) model.leases.push({ lease, records: expected });
      } else if (op.type === 'ack' || op.type === 'release') {
        const lease = model.settle(op.pick, op.type === 'ack' ? 'acked' : 'ready');
        if (lease !== undefined) await (op.type === 'ack' ? spool.ack(lease) : spool.release(lease));
      } else {
        await spool.close();
        spool = await open();
        model.reopen();
      }
      expect((await spool.stats()).records).toBe(model.unacked());
    }
    await spool.close();
    spool = await open();
    model.reopen();
    const rest: string[] = [];
    for (let lease = await spool.lease(5); lease.envelopes.length > 0; lease = await spool.lease(5)) {
      rest.push(...lease.envelopes.map((e) => e.id));
      await spool.ack(lease);
    }
    expect(rest).toEqual(model.records.map((r) => r.envelope.id));
    await spool.close();
    spool = await open();
    expect(await spool.stats()).toMatchObject({ records: 0, bytes: 0, segments: 0 });
    expect((await readdir(dir)).filter((f) => f.endsWith('.seg'))).toEqual([]);
  } finally {
    await spool.close();
    await cleanup();
  }
}

describe('disk spool model', () => {
  it('matches the array model under random append/lease/ack/release/reopen', async () => {
    await fc.assert(fc.asyncProperty(fc.array(opArb, { minLength: 1, maxLength: 60 }), runScenario), { numRuns: 150 });
  });
});
