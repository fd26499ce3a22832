/**
 * The dedupe journal's compact id table against a plain Map model, and the
 * journal itself with the ULIDs spillway stamps (packed, not strings).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createDiskDedupeStore } from '../../adapters/disk/index.js';
import { SeenIds } from '../../adapters/disk/seen-ids.js';
import { monotonicUlids } from '../../src/envelope/ulid-bytes.js';
import { useScratch } from '../helpers/spool-fixtures.js';

const { tempDir, track } = useScratch('seen-ids');

/** `count` monotonic ULIDs, several per millisecond (consecutive ids differ only in their low bits). */
function ulids(count: number, start = 1_700_000_000_000): string[] {
  const next = monotonicUlids();
  return Array.from({ length: count }, (_, i) => next(start + Math.floor(i / 7)));
}

type Op = { op: 'set'; id: number; expiresAt: number } | { op: 'purge'; now: number } | { op: 'get'; id: number };

describe('SeenIds', () => {
  const pool = [...ulids(40), 'custom-1', 'custom-2', 'lowercase-not-a-ulid-xxxxx', '8ZZZZZZZZZZZZZZZZZZZZZZZZZ'];

  it('answers like a Map of the later expiry, through growth and purges', () => {
    const op = fc.oneof(
      fc.record({ op: fc.constant('set' as const), id: fc.nat(pool.length - 1), expiresAt: fc.integer({ min: 1, max: 1_000 }) }),
      fc.record({ op: fc.constant('purge' as const), now: fc.integer({ min: 0, max: 1_000 }) }),
      fc.record({ op: fc.constant('get' as const), id: fc.nat(pool.length - 1) }),
    );
    fc.assert(
      fc.property(fc.array(op, { maxLength: 200 }), (ops: Op[]) => {
        const table = new SeenIds(4);
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
});
