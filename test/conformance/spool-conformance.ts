/**
 * The suite every Spool adapter must pass (memory, disk, Redis). Call
 * `runSpoolConformance(name, factory, capabilities)` from a test file with a
 * factory that opens a fresh, empty spool for each test.
 */
import { describe, expect, it } from 'vitest';
import type { Lease, Spool } from '../../src/contracts/spool.js';
import { ClosedError, SpoolFullError, hasCode, isSpillwayError } from '../../src/errors/index.js';
import { makeEnvelopes, plain } from '../helpers/spool-fixtures.js';

/** A spool under test, and how to reopen and dispose of it. */
export interface SpoolHarness {
  /** The spool as last opened. */
  readonly spool: Spool;
  /** Close the spool and open the same one again (durable adapters only). */
  reopen?: () => Promise<Spool>;
  /** Close the spool if open and remove anything it left behind. */
  cleanup(): Promise<void>;
}

/** What a test may ask of the factory. */
export interface SpoolHarnessOptions {
  maxBytes?: number;
}

/** Opens a fresh, empty spool for one test. */
export type SpoolFactory = (options: SpoolHarnessOptions) => Promise<SpoolHarness>;

async function withSpool(factory: SpoolFactory, options: SpoolHarnessOptions, fn: (h: SpoolHarness) => Promise<void>): Promise<void> {
  const harness = await factory(options);
  try {
    await fn(harness);
  } finally {
    await harness.cleanup();
  }
}

const ids = (lease: Lease): string[] => lease.envelopes.map((e) => e.id);

/** Lease everything left, acking as it goes; returns the ids in lease order. */
async function drain(spool: Spool, max = 7): Promise<string[]> {
  const out: string[] = [];
  for (let lease = await spool.lease(max); lease.envelopes.length > 0; lease = await spool.lease(max)) {
    out.push(...ids(lease));
    await spool.ack(lease);
  }
  return out;
}

type Run = (options: SpoolHarnessOptions, fn: (h: SpoolHarness) => Promise<void>) => () => Promise<void>;

/** Append order, lease size and counters. */
function orderCases(run: Run): void {
  it('starts empty: zero stats and an empty lease', run({}, async ({ spool }) => {
    expect(typeof spool.id).toBe('string');
    expect(await spool.stats()).toMatchObject({ records: 0, bytes: 0 });
    expect((await spool.lease(10)).envelopes).toEqual([]);
  }));

  it('hands records back in append order with every field intact', run({}, async ({ spool }) => {
    const batch = makeEnvelopes(0, 12);
    await spool.append(batch.slice(0, 5));
    await spool.append(batch.slice(5));
    const lease = await spool.lease(100);
    expect(lease.envelopes.map(plain)).toEqual(batch.map(plain));
  }));

  it('respects max and never hands out a leased record twice', run({}, async ({ spool }) => {
    await spool.append(makeEnvelopes(0, 10));
    const a = await spool.lease(4);
    const b = await spool.lease(4);
    const c = await spool.lease(4);
    expect(ids(a)).toEqual(makeEnvelopes(0, 4).map((e) => e.id));
    expect(ids(b)).toEqual(makeEnvelopes(4, 4).map((e) => e.id));
    expect(ids(c)).toEqual(makeEnvelopes(8, 2).map((e) => e.id));
    expect((await spool.lease(4)).envelopes).toHaveLength(0);
    expect((await spool.lease(0)).envelopes).toHaveLength(0);
  }));

  it('counts unacknowledged records and bytes, down to zero after acks', run({}, async ({ spool }) => {
    await spool.append(makeEnvelopes(0, 6));
    const full = await spool.stats();
    expect(full.records).toBe(6);
    expect(full.bytes).toBeGreaterThan(6 * 16);
    const lease = await spool.lease(2);
    expect((await spool.stats()).records).toBe(6);
    await spool.ack(lease);
    const after = await spool.stats();
    expect(after.records).toBe(4);
    expect(after.bytes).toBeLessThan(full.bytes);
    expect(await drain(spool)).toHaveLength(4);
    expect(await spool.stats()).toMatchObject({ records: 0, bytes: 0 });
  }));
}

/** Release, out-of-order acks and bad leases. */
function leaseCases(run: Run): void {
  it('leases released records again first, in append order', run({}, async ({ spool }) => {
    await spool.append(makeEnvelopes(0, 9));
    const a = await spool.lease(3);
    const b = await spool.lease(3);
    await spool.release(b);
    await spool.release(a);
    const again = await spool.lease(4);
    expect(ids(again)).toEqual(makeEnvelopes(0, 4).map((e) => e.id));
    expect(await drain(spool, 2)).toEqual(makeEnvelopes(4, 5).map((e) => e.id));
  }));

  it('accepts acks out of order and never hands acknowledged records out again', run({}, async ({ spool }) => {
    await spool.append(makeEnvelopes(0, 9));
    const a = await spool.lease(3);
    const b = await spool.lease(3);
    const c = await spool.lease(3);
    await spool.ack(c);
    await spool.release(a);
    await spool.ack(b);
    expect((await spool.stats()).records).toBe(3);
    const again = await spool.lease(10);
    expect(ids(again)).toEqual(ids(a));
    await spool.ack(again);
    expect(await spool.stats()).toMatchObject({ records: 0, bytes: 0 });
    expect((await spool.lease(10)).envelopes).toHaveLength(0);
  }));

  it('treats an empty batch and an empty lease as no-ops', run({}, async ({ spool }) => {
    await spool.append([]);
    const empty = await spool.lease(5);
    await spool.ack(empty);
    await spool.release(empty);
    expect(await spool.stats()).toMatchObject({ records: 0, bytes: 0 });
  }));

  it('rejects a lease it did not hand out, or one already acknowledged', run({}, async ({ spool }) => {
    await spool.append(makeEnvelopes(0, 2));
    const lease = await spool.lease(2);
    await expect(spool.ack({ envelopes: lease.envelopes })).rejects.toSatisfy(isSpillwayError);
    await spool.ack(lease);
    await expect(spool.ack(lease)).rejects.toSatisfy(isSpillwayError);
    await expect(spool.release(lease)).rejects.toSatisfy(isSpillwayError);
  }));
}

/** Concurrency, record accounting, the size limit and close. */
function volumeCases(run: Run): void {
  it('keeps each batch contiguous and in order under concurrent appends', run({}, async ({ spool }) => {
    const batches = Array.from({ length: 40 }, (_, i) => makeEnvelopes(i * 100, 1 + (i % 5), `b${i}`));
    await Promise.all(batches.map((b) => spool.append(b)));
    const out = await drain(spool, 13);
    expect(out).toHaveLength(batches.reduce((n, b) => n + b.length, 0));
    for (const batch of batches) {
      const start = out.indexOf(batch[0]!.id);
      expect(out.slice(start, start + batch.length)).toEqual(batch.map((e) => e.id));
    }
  }));

  it('counts records in and out: every record appended comes out exactly once', run({}, async ({ spool }) => {
    let next = 0;
    const seen: string[] = [];
    for (let round = 0; round < 30; round += 1) {
      const n = (round * 7) % 11;
      await spool.append(makeEnvelopes(next, n));
      next += n;
      const lease = await spool.lease(1 + (round % 6));
      if (round % 4 === 3) await spool.release(lease);
      else {
        seen.push(...ids(lease));
        await spool.ack(lease);
      }
    }
    seen.push(...(await drain(spool)));
    expect(seen).toEqual(makeEnvelopes(0, next).map((e) => e.id));
  }));

  it('rejects a batch over maxBytes with SpoolFullError and stores none of it', run({ maxBytes: 2_000 }, async ({ spool }) => {
    await spool.append(makeEnvelopes(0, 3, 'big', 400));
    const before = await spool.stats();
    const error = await spool.append(makeEnvelopes(10, 3, 'big', 400)).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SpoolFullError);
    expect((error as Error).message).toMatch(/maxBytes/);
    expect(await spool.stats()).toEqual(before);
    expect(await drain(spool)).toEqual(makeEnvelopes(0, 3, 'big', 400).map((e) => e.id));
    await spool.append(makeEnvelopes(10, 3, 'big', 400));
    expect((await spool.stats()).records).toBe(3);
  }));

  it('lets in-flight appends finish on close, then rejects everything with ClosedError', run({}, async ({ spool }) => {
    const pending = [spool.append(makeEnvelopes(0, 3)), spool.append(makeEnvelopes(3, 3))];
    await spool.close();
    await expect(Promise.all(pending)).resolves.toBeDefined();
    for (const op of [() => spool.append(makeEnvelopes(9, 1)), () => spool.lease(1), () => spool.stats(), () => spool.ack({ envelopes: [] })]) {
      const error = await op().then(() => undefined, (e: unknown) => e);
      expect(hasCode(error, ClosedError.code)).toBe(true);
    }
    await spool.close();
  }));
}

/** Per-key order, concurrent appenders and readers. */
function concurrencyCases(run: Run): void {
  it('keeps per-key order across many concurrent appenders', run({}, async ({ spool }) => {
    const keys = 5;
    const perKey = 30;
    const appenders = Array.from({ length: keys }, async (_, k) => {
      for (let n = 0; n < perKey; n += 3) {
        const batch = makeEnvelopes(k * 1_000 + n, 3, `key${k}`).map((e) => ({ ...e, partitionKey: `key-${k}` }));
        await spool.append(batch);
      }
    });
    await Promise.all(appenders);
    const leased: Array<{ id: string; key: string }> = [];
    for (let lease = await spool.lease(11); lease.envelopes.length > 0; lease = await spool.lease(11)) {
      leased.push(...lease.envelopes.map((e) => ({ id: e.id, key: e.partitionKey })));
      await spool.ack(lease);
    }
    expect(leased).toHaveLength(keys * perKey);
    for (let k = 0; k < keys; k += 1) {
      const mine = leased.filter((r) => r.key === `key-${k}`).map((r) => r.id);
      expect(mine).toEqual(makeEnvelopes(k * 1_000, perKey, `key${k}`).map((e) => e.id));
    }
  }));

  it('gives two concurrent readers disjoint leases that together hold every record once', run({}, async ({ spool }) => {
    const all = makeEnvelopes(0, 120, 'rd');
    const appending = (async () => {
      for (let i = 0; i < all.length; i += 8) await spool.append(all.slice(i, i + 8));
    })();
    const seen: string[][] = [[], []];
    const reader = async (r: number): Promise<void> => {
      while (seen[0]!.length + seen[1]!.length < all.length) {
        const lease = await spool.lease(1 + r * 4);
        if (lease.envelopes.length === 0) {
          await new Promise((resolve) => setImmediate(resolve));
          continue;
        }
        seen[r]!.push(...ids(lease));
        await spool.ack(lease);
      }
    };
    await Promise.all([appending, reader(0), reader(1)]);
    const both = [...seen[0]!, ...seen[1]!];
    expect(new Set(both).size).toBe(all.length);
    expect(both.sort()).toEqual(all.map((e) => e.id).sort());
    expect(await spool.stats()).toMatchObject({ records: 0 });
  }));

  it('settles every append issued before close: stored (and leased after) or rejected, never lost half-way', run({}, async (h) => {
    const batches = Array.from({ length: 20 }, (_, i) => makeEnvelopes(i * 10, 3, 'cl'));
    const results = batches.map((b) => h.spool.append(b).then(() => 'stored' as const, (e: unknown) => e));
    await h.spool.close();
    const settled = await Promise.all(results);
    for (const r of settled) if (r !== 'stored') expect(isSpillwayError(r)).toBe(true);
    const stored = batches.filter((_, i) => settled[i] === 'stored').flatMap((b) => b.map((e) => e.id));
    if (h.reopen === undefined) return;
    const reopened = await h.reopen();
    const back = await drain(reopened);
    for (const id of stored) expect(back).toContain(id);
  }));
}

/** Reopening a durable spool. */
function durabilityCases(run: Run): void {
  describe('durability', () => {
    it('after reopen, unacknowledged records come back in order and acknowledged ones do not', run({}, async (h) => {
      if (h.reopen === undefined) throw new Error('a durable adapter must give the harness a reopen()');
      await h.spool.append(makeEnvelopes(0, 10));
      const a = await h.spool.lease(3);
      const b = await h.spool.lease(3);
      await h.spool.lease(2);
      await h.spool.ack(a);
      await h.spool.release(b);
      const reopened = await h.reopen();
      expect(await reopened.stats()).toMatchObject({ records: 7 });
      expect(await drain(reopened)).toEqual(makeEnvelopes(3, 7).map((e) => e.id));
    }));

    it('after reopen, out-of-order acks beyond the acknowledged prefix may come back, nothing before it does', run({}, async (h) => {
      await h.spool.append(makeEnvelopes(0, 6));
      const a = await h.spool.lease(2);
      const b = await h.spool.lease(2);
      const c = await h.spool.lease(2);
      await h.spool.ack(a);
      await h.spool.ack(c);
      const reopened = await h.reopen!();
      const out = await drain(reopened);
      expect(out.slice(0, 2)).toEqual(ids(b));
      expect(out.every((id) => !ids(a).includes(id))).toBe(true);
    }));
  });
}

/** What the adapter promises beyond the contract's basics. */
export interface SpoolCapabilities {
  /** Survives close and reopen (the harness must provide `reopen`). */
  durable?: boolean;
}

/**
 * Register the conformance suite for one Spool adapter: append/lease/ack
 * semantics, per-key order, concurrent appenders and readers, close while
 * appending, the size limit and (for `durable` adapters) restart recovery.
 */
export function runSpoolConformance(name: string, factory: SpoolFactory, capabilities: SpoolCapabilities = {}): void {
  const run = (options: SpoolHarnessOptions, fn: (h: SpoolHarness) => Promise<void>) => () => withSpool(factory, options, fn);

  describe(`Spool conformance: ${name}`, () => {
    orderCases(run);
    leaseCases(run);
    volumeCases(run);
    concurrencyCases(run);
    if (capabilities.durable === true) describe('durability', () => durabilityCases(run));
  });
}

/** Former name of {@link runSpoolConformance}. */
export const describeSpoolConformance = runSpoolConformance;
