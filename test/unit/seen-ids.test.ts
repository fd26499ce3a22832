/**
 * The dedupe journal's compact id table against a plain Map model, and the
 * journal itself with the ULIDs spillway stamps (packed, not strings).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createDiskDedupeStore } from '../../adapters/disk/index.js';
import { SeenIds } from '../../adapters/disk/seen-ids.js';
import { UlidSource } from '../../src/envelope/ulid-bytes.js';
import { useScratch } from '../helpers/spool-fixtures.js';

const { tempDir, track } = useScratch('seen-ids');

/** `count` monotonic ULIDs, several per millisecond (consecutive ids differ only in their low bits). */
function ulids(count: number, start = 1_700_000_000_000): string[] {
  const source = new UlidSource();
  return Array.from({ length: count }, (_, i) => source.next(start + Math.floor(i / 7)));
}

type Op = { op: 'set'; id: number; expiresAt: number } | { op: 'purge'; now: number } | { op: 'get'; id: number };

describe('SeenIds', () => {
  const pool = [...ulids(40), 'custom-1', 'custom-2', 'lowercase-not-a-ulid-xxxxx', '8ZZZZZZZZZZZZZZZZZZZZZZZZZ'];

  // Pages of 4 slots split after 3 ids, so a few dozen ids go through many splits, directory doublings and shrinks;
  // with maxDepth 2 at most 4 pages exist, and ids beyond them spill to the Map.
  // Expiries 1-1,000 keep 20-byte slots (the base moves down as smaller ones come); expiries spanning 2^33 ms, or
  // fractional, switch the table to 24-byte slots part way through.
  const small = fc.integer({ min: 1, max: 1_000 });
  const wide = fc.oneof({ weight: 4, arbitrary: small }, fc.integer({ min: 1, max: 2 ** 33 }), fc.double({ min: 0.5, max: 2_000, noNaN: true }));
  it.each([
    ['pages of 4 slots', { pageBits: 2 }, small],
    ['pages of 4 slots, at most 4 pages', { pageBits: 2, maxDepth: 2 }, small],
    ['default pages', {}, small],
    ['pages of 4 slots, wide expiries', { pageBits: 2 }, wide],
    ['pages of 4 slots, at most 4 pages, wide expiries', { pageBits: 2, maxDepth: 2 }, wide],
  ])('answers like a Map of the later expiry, through growth and purges (%s)', (_, options, expiry) => {
    // Mostly sets and gets, so the table fills (and spills) between purges.
    const op = fc.oneof(
      { weight: 6, arbitrary: fc.record({ op: fc.constant('set' as const), id: fc.nat(pool.length - 1), expiresAt: expiry }) },
      { weight: 1, arbitrary: fc.record({ op: fc.constant('purge' as const), now: fc.oneof(fc.integer({ min: 0, max: 1_000 }), fc.integer({ min: 0, max: 2 ** 33 })) }) },
      { weight: 4, arbitrary: fc.record({ op: fc.constant('get' as const), id: fc.nat(pool.length - 1) }) },
    );
    fc.assert(
      fc.property(fc.array(op, { maxLength: 300, size: 'max' }), (ops: Op[]) => {
        const table = new SeenIds(options);
        const model = new Map<string, number>();
        for (const o of ops) {
          if (o.op === 'set') {
            const id = pool[o.id] as string;
            table.set(id, o.expiresAt);
            model.set(id, Math.max(o.expiresAt, model.get(id) ?? 0));
          } else if (o.op === 'purge') {
            table.purge(o.now);
            for (const [id, e] of model) if (e <= o.now) model.delete(id);
          } else expect(table.get(pool[o.id] as string)).toBe(model.get(pool[o.id] as string));
        }
        expect(table.size).toBe(model.size);
        expect(new Map(table.entries())).toEqual(model);
      }),
    );
  });

  it('holds 100,000 monotonic ULIDs, finds each, and misses ids it never saw', () => {
    const ids = ulids(100_001);
    const unseen = ids.pop() as string;
    const table = new SeenIds();
    ids.forEach((id, i) => table.set(id, 1 + (i % 5)));
    expect(table.size).toBe(100_000);
    expect(ids.every((id, i) => table.get(id) === 1 + (i % 5))).toBe(true);
    expect(table.get(unseen)).toBeUndefined();
    table.purge(3);
    expect(table.size).toBe(40_000);
    expect(ids.filter((id) => table.get(id) !== undefined)).toEqual(ids.filter((_, i) => 1 + (i % 5) > 3));
  });

  it('keeps 1,000,000 ids through every page split with their exact expiries, and purges exactly the expired ones', () => {
    const ids = ulids(1_000_000);
    const table = new SeenIds();
    // Expiries one millisecond apart in runs of 1,000 ids (as markSeen batches stamp them), plus a later one that must win.
    const expiry = (i: number): number => 1_700_000_000_000 + Math.floor(i / 1_000);
    ids.forEach((id, i) => table.set(id, expiry(i)));
    ids.forEach((id, i) => {
      if (i % 3 === 0) table.set(id, expiry(i) - 5); // an earlier expiry never shortens the hold
    });
    expect(table.size).toBe(1_000_000);
    expect(ids.findIndex((id, i) => table.get(id) !== expiry(i))).toBe(-1);
    expect(ulids(1_000, 1_800_000_000_000).some((id) => table.get(id) !== undefined)).toBe(false);
    table.purge(expiry(600_000) - 1); // everything before id 600,000 has expired
    expect(table.size).toBe(400_000);
    expect(ids.findIndex((id, i) => table.get(id) !== (i < 600_000 ? undefined : expiry(i)))).toBe(-1);
    table.purge(expiry(999_999)); // all expired: the table shrinks back to one page
    expect(table.size).toBe(0);
    expect(table.get(ids[999_999] as string)).toBeUndefined();
    ids.slice(0, 10_000).forEach((id, i) => table.set(id, expiry(i)));
    expect(ids.slice(0, 10_000).every((id, i) => table.get(id) === expiry(i))).toBe(true);
  });

  it('keeps 20-byte slots and exact expiries through 200 days of a 7-day TTL (the base moves up)', () => {
    const day = 86_400_000;
    const ttl = 7 * day;
    const table = new SeenIds();
    const ids = ulids(200 * 1_000);
    let now = 1_700_000_000_000;
    for (let d = 0; d < 200; d++) {
      for (let i = d * 1_000; i < (d + 1) * 1_000; i++) table.set(ids[i] as string, now + ttl + (i % 1_000) * 60_000 + 1);
      now += day;
      table.purge(now);
      // Held: the last 7 days' ids (day d-6 .. d), each with its exact expiry.
      const held = ids.slice(Math.max(0, d - 6) * 1_000, (d + 1) * 1_000);
      if (d % 20 === 19) {
        expect(table.size).toBe(held.length);
        expect(held.every((id, k) => table.get(id) === 1_700_000_000_000 + (Math.max(0, d - 6) + Math.floor(k / 1_000)) * day + ttl + (k % 1_000) * 60_000 + 1)).toBe(true);
        expect(ids.slice(0, Math.max(0, d - 6) * 1_000).some((id) => table.get(id) !== undefined)).toBe(false);
      }
    }
    expect(table.slotBytes).toBe(20);
  });

  it('switches to 24-byte slots for an expiry 60 days past the others, keeping every expiry', () => {
    const table = new SeenIds();
    const ids = ulids(10_000);
    ids.forEach((id, i) => table.set(id, 1_700_000_000_000 + i));
    expect(table.slotBytes).toBe(20);
    table.set(ids[0] as string, 1_700_000_000_000 + 60 * 86_400_000);
    expect(table.slotBytes).toBe(24);
    expect(ids.every((id, i) => table.get(id) === 1_700_000_000_000 + (i === 0 ? 60 * 86_400_000 : i))).toBe(true);
  });

  it('refuses an expiry of 0 (it marks an empty slot)', () => {
    expect(() => new SeenIds().set(ulids(1)[0] as string, 0)).toThrow(RangeError);
  });
});

describe('disk dedupe journal with stamped ids', () => {
  it('keeps ULIDs across reopen and compaction, with their expiries', async () => {
    const dir = await tempDir();
    let now = 1_000;
    const ids = ulids(3_000);
    const store = await createDiskDedupeStore({ dir, clock: () => now, compactMinLines: 500, compactRatio: 2 });
    await store.markSeen(ids.slice(0, 2_000), 100); // expire at 1,100
    await store.markSeen(ids.slice(2_000), 1_000_000);
    now = 2_000;
    for (let i = 0; i < 4; i += 1) await store.markSeen(ids.slice(2_000, 2_500), 1_000_000); // grow the journal: compacts
    expect(store.stats().compactions).toBeGreaterThan(0);
    expect(await store.filterUnseen(ids)).toEqual(ids.slice(0, 2_000));
    await store.close();
    const reopened = track(await createDiskDedupeStore({ dir, clock: () => now }));
    expect(reopened.stats().ids).toBe(1_000);
    expect(await reopened.filterUnseen(ids)).toEqual(ids.slice(0, 2_000));
  });

  it('holds 200,000 drained ids for exactly their TTL, by its clock', async () => {
    const dir = await tempDir();
    let now = 1_000_000;
    const ids = ulids(200_000);
    const store = track(await createDiskDedupeStore({ dir, clock: () => now }));
    for (let i = 0; i < ids.length; i += 500) {
      await store.markSeen(ids.slice(i, i + 500), 60_000); // batch k expires at 1,060,000 + k
      now += 1;
    }
    now = 1_060_000 + 200; // batches 0-200 (ids 0-100,499) have expired
    expect(await store.filterUnseen(ids)).toEqual(ids.slice(0, 100_500));
    now = 1_060_000 + 398; // all but the last batch
    expect(await store.filterUnseen(ids)).toEqual(ids.slice(0, 199_500));
  });
});
