import { describe, expect, it } from 'vitest';
import { createMemoryCheckpointStore, createMemoryDedupeStore, createMemorySpool } from '../../adapters/memory/index.js';
import { ClosedError, SpoolFullError } from '../../src/errors/index.js';
import { makeEnvelopes } from '../helpers/spool-fixtures.js';

describe('memory dedupe store', () => {
  it('filters seen ids in order and forgets them after the ttl', async () => {
    let now = 5_000;
    const store = createMemoryDedupeStore({ clock: () => now });
    await store.markSeen(['b', 'c'], 100);
    expect(await store.filterUnseen(['a', 'b', 'c', 'd'])).toEqual(['a', 'd']);
    now += 100;
    expect(await store.filterUnseen(['a', 'b', 'c', 'd'])).toEqual(['a', 'b', 'c', 'd']);
  });

  it('extends, never shortens, an id already seen', async () => {
    let now = 0;
    const store = createMemoryDedupeStore({ clock: () => now });
    await store.markSeen(['x'], 1_000);
    await store.markSeen(['x'], 10);
    now = 500;
    expect(await store.filterUnseen(['x'])).toEqual([]);
  });

  it('rejects use after close', async () => {
    const store = createMemoryDedupeStore();
    await store.close();
    await expect(store.filterUnseen(['x'])).rejects.toThrow(ClosedError);
  });
});

describe('memory checkpoint store', () => {
  it('gets what was set and rejects use after close', async () => {
    const store = createMemoryCheckpointStore();
    expect(await store.get('k')).toBeUndefined();
    await store.set('k', 'v1');
    await store.set('k', 'v2');
    expect(await store.get('k')).toBe('v2');
    await store.close();
    await expect(store.get('k')).rejects.toThrow(ClosedError);
  });
});

describe('memory spool', () => {
  it('counts bytes like the disk spool and enforces maxBytes', async () => {
    const spool = createMemorySpool({ maxBytes: 1_000 });
    await spool.append(makeEnvelopes(0, 2, 'm', 300));
    const stats = await spool.stats();
    expect(stats.bytes).toBe(stats.usedBytes);
    await expect(spool.append(makeEnvelopes(2, 2, 'm', 300))).rejects.toThrow(SpoolFullError);
    expect(await spool.stats()).toEqual(stats);
  });
});
