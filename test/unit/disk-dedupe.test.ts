import { appendFile, readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createDiskDedupeStore, DEDUPE_JOURNAL_FILE, type DiskDedupeStoreOptions } from '../../adapters/disk/index.js';
import { ClosedError, ConfigError, SpoolCorruptError } from '../../src/errors/index.js';
import { fsError, replaceDiskIo } from '../helpers/spool-faults.js';
import { useScratch } from '../helpers/spool-fixtures.js';

const { tempDir, defer, track } = useScratch('dedupe');

async function open(options: DiskDedupeStoreOptions) {
  return track(await createDiskDedupeStore(options));
}

const journalLines = async (dir: string): Promise<string[]> => (await readFile(join(dir, DEDUPE_JOURNAL_FILE), 'utf8')).split('\n').filter(Boolean);

describe('disk dedupe journal', () => {
  it('filters seen ids, keeping the given order, and survives reopen', async () => {
    const dir = await tempDir();
    const store = await createDiskDedupeStore({ dir });
    await store.markSeen(['b', 'd'], 60_000);
    expect(await store.filterUnseen(['a', 'b', 'c', 'd', 'e'])).toEqual(['a', 'c', 'e']);
    await store.close();
    const reopened = await open({ dir });
    expect(await reopened.filterUnseen(['a', 'b', 'c', 'd', 'e'])).toEqual(['a', 'c', 'e']);
    expect((await stat(join(dir, DEDUPE_JOURNAL_FILE))).mode & 0o777).toBe(0o600);
  });

  it('forgets ids once their ttl has passed, and drops them on reopen', async () => {
    const dir = await tempDir();
    let now = 1_000_000;
    const clock = (): number => now;
    const store = await createDiskDedupeStore({ dir, clock });
    await store.markSeen(['short'], 1_000);
    await store.markSeen(['long'], 10_000);
    now += 999;
    expect(await store.filterUnseen(['short', 'long'])).toEqual([]);
    now += 1;
    expect(await store.filterUnseen(['short', 'long'])).toEqual(['short']);
    await store.close();
    const reopened = await open({ dir, clock });
    expect(reopened.stats().ids).toBe(1);
    expect(await reopened.filterUnseen(['short', 'long'])).toEqual(['short']);
  });

  it('compacts a journal grown well past its live set and keeps every live id', async () => {
    const dir = await tempDir();
    let now = 0;
    const store = await createDiskDedupeStore({ dir, clock: () => now, compactMinLines: 50, compactRatio: 2 });
    for (let i = 0; i < 200; i += 1) await store.markSeen([`gone-${i}`], 10);
    await store.markSeen(['keep-1', 'keep-2'], 1_000_000);
    now = 100;
    for (let i = 0; i < 250; i += 1) await store.markSeen([`keep-${i % 3}`], 1_000_000);
    expect(store.stats().compactions).toBeGreaterThan(0);
    expect((await journalLines(dir)).length).toBeLessThan(100);
    await store.close();
    const reopened = await open({ dir, clock: () => now });
    expect(await reopened.filterUnseen(['keep-0', 'keep-1', 'keep-2', 'gone-5'])).toEqual(['gone-5']);
  });

  it('tolerates a torn last line and cuts it off', async () => {
    const dir = await tempDir();
    const store = await createDiskDedupeStore({ dir });
    await store.markSeen(['a', 'b'], 60_000);
    await store.close();
    const file = join(dir, DEDUPE_JOURNAL_FILE);
    const goodSize = (await stat(file)).size;
    await appendFile(file, '["c",17000');
    const reopened = await open({ dir });
    expect(await reopened.filterUnseen(['a', 'b', 'c'])).toEqual(['c']);
    expect((await stat(file)).size).toBe(goodSize);
    await reopened.markSeen(['c'], 60_000);
    expect(await journalLines(dir)).toHaveLength(3);
  });

  it('refuses a journal with a bad line before good ones', async () => {
    const dir = await tempDir();
    await writeFile(join(dir, DEDUPE_JOURNAL_FILE), `["a",${Date.now() + 60_000}]\ngarbage\n["b",${Date.now() + 60_000}]\n`);
    const error = await createDiskDedupeStore({ dir }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SpoolCorruptError);
    expect((error as Error).message).toContain(DEDUPE_JOURNAL_FILE);
  });

  it('takes concurrent markSeen calls, locks its directory, and rejects use after close', async () => {
    const dir = await tempDir();
    const store = await createDiskDedupeStore({ dir });
    await Promise.all(Array.from({ length: 50 }, (_, i) => store.markSeen([`id-${i}`], 60_000)));
    expect(await store.filterUnseen(['id-0', 'id-49', 'id-50'])).toEqual(['id-50']);
    await expect(createDiskDedupeStore({ dir })).rejects.toThrow(ConfigError);
    await store.close();
    await expect(store.filterUnseen(['x'])).rejects.toThrow(ClosedError);
    await expect(store.markSeen(['x'], 1)).rejects.toThrow(ClosedError);
  });
});

describe('disk dedupe journal: failed and short writes', () => {
  /** Make the next journal write put `fraction` of its bytes in the file, then fail with `error` (or return short). */
  function writePartlyOnce(fraction: number, error?: NodeJS.ErrnoException): { calls: () => number } {
    let calls = 0;
    defer(
      replaceDiskIo('writeJournal', (original) => async (handle, data, offset, length) => {
        calls += 1;
        if (calls > 1) return original(handle, data, offset, length);
        const { bytesWritten } = await original(handle, data, offset, Math.max(1, Math.floor(length * fraction)));
        if (error !== undefined) throw error;
        return { bytesWritten };
      }),
    );
    return { calls: () => calls };
  }

  it('cuts a write that failed partway back off, so good lines never follow a broken one', async () => {
    const dir = await tempDir();
    const store = await createDiskDedupeStore({ dir });
    await store.markSeen(['a'], 60_000);
    const faults = writePartlyOnce(0.7, fsError('ENOSPC', 'ENOSPC: no space left on device, write'));
    const error = await store.markSeen(['b', 'c'], 60_000).catch((e: unknown) => e);
    expect(faults.calls()).toBe(1);
    expect(error).toBeInstanceOf(SpoolCorruptError);
    expect((error as Error).message).toMatch(/dedupe\.journal.*ENOSPC/);
    await store.markSeen(['d'], 60_000);
    await store.markSeen(['e'], 60_000);
    await store.close();
    const reopened = await open({ dir });
    expect(await reopened.filterUnseen(['a', 'b', 'c', 'd', 'e'])).toEqual(['b', 'c']);
    expect(await journalLines(dir)).toHaveLength(3);
  });

  it('finishes a short write instead of leaving half a line behind', async () => {
    const dir = await tempDir();
    const store = await createDiskDedupeStore({ dir });
    const faults = writePartlyOnce(0.4);
    await store.markSeen(['a', 'b', 'c'], 60_000);
    await store.markSeen(['d'], 60_000);
    await store.close();
    const reopened = await open({ dir });
    expect(await reopened.filterUnseen(['a', 'b', 'c', 'd', 'e'])).toEqual(['e']);
    expect(await journalLines(dir)).toHaveLength(4);
    expect(faults.calls()).toBeGreaterThan(2);
  });

  it('refuses further writes when a failed write cannot be cut back off; reopening cuts it', async () => {
    const dir = await tempDir();
    const store = await createDiskDedupeStore({ dir });
    await store.markSeen(['a'], 60_000);
    let calls = 0;
    defer(
      replaceDiskIo('writeJournal', (original) => async (handle, data, offset, length) => {
        calls += 1;
        if (calls > 1) return original(handle, data, offset, length);
        await original(handle, data, offset, Math.floor(length / 2));
        handle.truncate = () => Promise.reject(fsError('EIO', 'EIO: i/o error, ftruncate'));
        throw fsError('EIO', 'EIO: i/o error, write');
      }),
    );
    await expect(store.markSeen(['b'], 60_000)).rejects.toThrow(SpoolCorruptError);
    await expect(store.markSeen(['c'], 60_000)).rejects.toThrow(/refuses further writes/);
    expect(calls).toBe(1);
    await store.close();
    const reopened = await open({ dir });
    expect(await reopened.filterUnseen(['a', 'b', 'c'])).toEqual(['b', 'c']);
    expect(await journalLines(dir)).toHaveLength(1);
  });
});
