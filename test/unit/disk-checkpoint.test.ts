import { readdir, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CHECKPOINT_FILE, createDiskCheckpointStore } from '../../adapters/disk/index.js';
import { ClosedError, ConfigError, SpoolCorruptError } from '../../src/errors/index.js';
import { useScratch } from '../helpers/spool-fixtures.js';

const { tempDir, defer } = useScratch('checkpoint');

describe('disk checkpoint store', () => {
  it('keeps values across reopen, in a 0600 file with no tmp left behind', async () => {
    const dir = await tempDir();
    const store = await createDiskCheckpointStore({ dir });
    expect(await store.get('shard-1')).toBeUndefined();
    await store.set('shard-1', '4955');
    await store.set('shard-2', '12');
    await store.set('shard-1', '5000');
    await store.close();
    const reopened = await createDiskCheckpointStore({ dir });
    defer(() => reopened.close());
    expect(await reopened.get('shard-1')).toBe('5000');
    expect(await reopened.get('shard-2')).toBe('12');
    expect((await stat(join(dir, CHECKPOINT_FILE))).mode & 0o777).toBe(0o600);
    expect((await readdir(dir)).filter((f) => f.endsWith('.tmp'))).toEqual([]);
  });

  it('persists the last of many concurrent sets', async () => {
    const dir = await tempDir();
    const store = await createDiskCheckpointStore({ dir });
    await Promise.all(Array.from({ length: 30 }, (_, i) => store.set('k', String(i))));
    await store.close();
    const reopened = await createDiskCheckpointStore({ dir });
    defer(() => reopened.close());
    expect(await reopened.get('k')).toBe('29');
  });

  it('reports a damaged file, a locked directory and use after close', async () => {
    const dir = await tempDir();
    await writeFile(join(dir, CHECKPOINT_FILE), '{"version":1,"values":');
    await expect(createDiskCheckpointStore({ dir })).rejects.toThrow(SpoolCorruptError);
    const other = await tempDir();
    const store = await createDiskCheckpointStore({ dir: other });
    await expect(createDiskCheckpointStore({ dir: other })).rejects.toThrow(ConfigError);
    await store.close();
    await expect(store.get('k')).rejects.toThrow(ClosedError);
    await expect(store.set('k', 'v')).rejects.toThrow(ClosedError);
  });
});
