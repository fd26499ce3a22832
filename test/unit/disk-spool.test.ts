import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { chmod, copyFile, mkdir, readdir, readFile, stat, writeFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { encodeFrames } from '../../adapters/disk/framing.js';
import { ioError } from '../../adapters/disk/fs-util.js';
import { createDiskSpool, type DiskSpool, type DiskSpoolOptions } from '../../adapters/disk/index.js';
import { ConfigError, SpoolCorruptError, SpoolFullError, ValidationError } from '../../src/errors/index.js';
import { replaceDiskIo } from '../helpers/spool-faults.js';
import { makeEnvelopes, useScratch } from '../helpers/spool-fixtures.js';

const { tempDir, defer, track } = useScratch('unit');

async function openSpool(options: DiskSpoolOptions): Promise<DiskSpool> {
  return track(await createDiskSpool(options));
}

const mode = async (path: string): Promise<number> => (await stat(path)).mode & 0o777;
const segmentFiles = async (dir: string): Promise<string[]> => (await readdir(dir)).filter((f) => f.endsWith('.seg')).sort();

async function drainAll(spool: DiskSpool): Promise<string[]> {
  const out: string[] = [];
  for (let lease = await spool.lease(50); lease.envelopes.length > 0; lease = await spool.lease(50)) {
    out.push(...lease.envelopes.map((e) => e.id));
    await spool.ack(lease);
  }
  return out;
}

describe('disk spool: files and permissions', () => {
  it('creates the directory 0700 and its files 0600, named in append order', async () => {
    const dir = join(await tempDir(), 'nested', 'spool');
    const spool = await openSpool({ dir, maxSegmentBytes: 300 });
    await spool.append(makeEnvelopes(0, 3, 'p', 100));
    await spool.append(makeEnvelopes(3, 3, 'p', 100));
    await spool.ack(await spool.lease(1));
    expect(await mode(dir)).toBe(0o700);
    const segments = await segmentFiles(dir);
    expect(segments.length).toBeGreaterThan(1);
    expect(segments.every((f) => /^\d{20}\.seg$/.test(f))).toBe(true);
    for (const file of [...segments, 'CURSOR', 'LOCK']) expect(await mode(join(dir, file))).toBe(0o600);
  });

  it('narrows an existing directory with wider permissions to 0700', async () => {
    const dir = join(await tempDir(), 'wide');
    await mkdir(dir, { mode: 0o755 });
    await chmod(dir, 0o755);
    await openSpool({ dir });
    expect(await mode(dir)).toBe(0o700);
  });

  it('rejects a path that is a file, and bad sizes, with ConfigError naming the field', async () => {
    const file = join(await tempDir(), 'not-a-dir');
    await writeFile(file, 'x');
    await expect(createDiskSpool({ dir: file })).rejects.toThrow(ConfigError);
    await expect(createDiskSpool({ dir: file })).rejects.toThrow(/spool\.dir/);
    await expect(createDiskSpool({ dir: '' })).rejects.toThrow(ConfigError);
    await expect(createDiskSpool({ dir: file, maxBytes: 0 })).rejects.toThrow(/spool\.maxBytes/);
  });

  it('says a spool.dir that is a file exists and is not a directory (not "cannot create"), and leaves the file alone', async () => {
    const file = join(await tempDir(), 'notadir');
    await writeFile(file, 'keep me');
    const error = await createDiskSpool({ dir: file }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).field).toBe('spool.dir');
    expect((error as Error).message).toBe(`${file} exists and is not a directory; point spool.dir at a directory (or move the file away)`);
    expect(await readFile(file, 'utf8')).toBe('keep me');
    // A file part-way along the path gets the same advice, not "cannot create".
    const below = await createDiskSpool({ dir: join(file, 'spool') }).catch((e: unknown) => e);
    expect(below).toBeInstanceOf(ConfigError);
    expect((below as Error).message).toMatch(/part of its path exists and is not a directory.*point spool\.dir at a directory/);
  });

  it('turns a permission error on a spool file into SpoolCorruptError that says what to fix', () => {
    // Tests run as root here, where EACCES cannot be provoked; check the wording directly.
    const cause = Object.assign(new Error('EACCES: permission denied, open /x/00000000000000000001.seg'), { code: 'EACCES' });
    const error = ioError('open the spool segment', '/x/00000000000000000001.seg', cause);
    expect(error).toBeInstanceOf(SpoolCorruptError);
    expect(error.message).toMatch(/00000000000000000001\.seg.*read and write access.*0600.*0700/);
    expect(error.cause).toBe(cause);
  });

  it('reports an unreadable cursor with SpoolCorruptError saying what to do', async () => {
    const dir = await tempDir();
    await writeFile(join(dir, 'CURSOR'), '{"version":1,"seq":');
    const error = await createDiskSpool({ dir }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SpoolCorruptError);
    expect((error as Error).message).toMatch(/CURSOR.*delete it/);
  });
});

describe('disk spool: lock', () => {
  it('refuses a second open of the same directory with a ConfigError naming the holder', async () => {
    const dir = await tempDir();
    const first = await createDiskSpool({ dir });
    const error = await createDiskSpool({ dir }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as Error).message).toContain(`process ${process.pid}`);
    expect((error as Error).message).toContain(join(dir, 'LOCK'));
    await first.close();
    expect(await readdir(dir)).not.toContain('LOCK');
    await openSpool({ dir });
  });

  it('takes over a lock left by a process that is gone', async () => {
    const dir = await tempDir();
    const child = spawn(process.execPath, ['-e', ''], { stdio: 'ignore' });
    await once(child, 'exit');
    await writeFile(join(dir, 'LOCK'), `${child.pid}\n`);
    const spool = await openSpool({ dir });
    expect((await readFile(join(dir, 'LOCK'), 'utf8')).trim()).toBe(String(process.pid));
    await spool.append(makeEnvelopes(0, 1));
  });

  it('takes over a lock file holding our own pid when no spool in this process holds it (a restarted container is pid 1 again)', async () => {
    const dir = await tempDir();
    await writeFile(join(dir, 'LOCK'), `${process.pid}\n`);
    const spool = await openSpool({ dir });
    await spool.append(makeEnvelopes(0, 1));
    const error = await createDiskSpool({ dir }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as Error).message).toContain(`process ${process.pid}`);
  });

  it('lets exactly one of two concurrent opens in this process have the directory', async () => {
    const dir = await tempDir();
    const results = await Promise.allSettled([createDiskSpool({ dir }), createDiskSpool({ dir })]);
    const opened = results.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
    const refused = results.flatMap((r) => (r.status === 'rejected' ? [r.reason as unknown] : []));
    for (const spool of opened) defer(() => spool.close());
    expect(opened).toHaveLength(1);
    expect(refused[0]).toBeInstanceOf(ConfigError);
  });
});

describe('disk spool: limits', () => {
  it('rejects a batch past maxBytes with SpoolFullError and writes nothing of it', async () => {
    const dir = await tempDir();
    const spool = await openSpool({ dir, maxBytes: 4_000 });
    await spool.append(makeEnvelopes(0, 5, 'f', 500));
    const sizes = async (): Promise<number[]> => Promise.all((await segmentFiles(dir)).map(async (f) => (await stat(join(dir, f))).size));
    const before = { stats: await spool.stats(), sizes: await sizes() };
    const error = await spool.append(makeEnvelopes(5, 3, 'f', 500)).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SpoolFullError);
    expect((error as Error).message).toMatch(/of 4000 bytes \(spool\.maxBytes, \d+\.\d%\).*Raise spool\.maxBytes.*reconciler/);
    expect(await spool.stats()).toEqual(before.stats);
    expect(await sizes()).toEqual(before.sizes);
    await spool.close();
    const reopened = await openSpool({ dir, maxBytes: 4_000 });
    expect(await drainAll(reopened)).toEqual(makeEnvelopes(0, 5, 'f', 500).map((e) => e.id));
  });

  it('frees room as records are acknowledged', async () => {
    const spool = await openSpool({ dir: await tempDir(), maxBytes: 3_000, maxSegmentBytes: 1_000 });
    for (let i = 0; i < 20; i += 1) {
      await spool.append(makeEnvelopes(i * 2, 2, 'r', 400));
      await drainAll(spool);
    }
    expect((await spool.stats()).usedBytes).toBe(0);
  });

  it('puts a record larger than maxSegmentBytes in a segment of its own', async () => {
    const dir = await tempDir();
    const spool = await openSpool({ dir, maxSegmentBytes: 200 });
    await spool.append(makeEnvelopes(0, 1, 's', 50));
    await spool.append(makeEnvelopes(1, 1, 's', 1_000));
    await spool.append(makeEnvelopes(2, 1, 's', 50));
    expect(await segmentFiles(dir)).toHaveLength(3);
    expect(await drainAll(spool)).toEqual(makeEnvelopes(0, 3, 's').map((e) => e.id));
  });

  it('rejects a negative or fractional lease size', async () => {
    const spool = await openSpool({ dir: await tempDir() });
    await expect(spool.lease(-1)).rejects.toThrow(ValidationError);
    await expect(spool.lease(1.5)).rejects.toThrow(ValidationError);
  });
});

describe('disk spool: group commit, cursor and deletion', () => {
  it('serves many concurrent appends with fewer fdatasyncs than appends', async () => {
    // Count the fdatasync calls themselves, below the writer (io seam), not the writer's own report of them.
    let datasyncs = 0;
    defer(
      replaceDiskIo('syncSegment', (original) => async (handle, file) => {
        await original(handle, file);
        datasyncs += 1;
      }),
    );
    const spool = await openSpool({ dir: await tempDir() });
    await Promise.all(Array.from({ length: 200 }, (_, i) => spool.append(makeEnvelopes(i * 10, 2, 'g'))));
    const { syncs, records } = await spool.stats();
    expect(records).toBe(400);
    expect(datasyncs).toBeGreaterThan(0);
    expect(syncs).toBe(datasyncs);
    expect(datasyncs).toBeLessThan(200 / 2);
  });

  it('has the cursor fsynced, renamed and its directory fsynced before ack resolves', async () => {
    const dir = await tempDir();
    const log: string[] = [];
    defer(
      replaceDiskIo('syncFile', (original) => async (handle, file) => {
        await original(handle, file);
        log.push(`synced ${basename(file)}`);
      }),
      replaceDiskIo('syncDir', (original) => async (d) => {
        await original(d);
        log.push(`synced dir ${d === dir ? 'spool' : d}`);
      }),
    );
    const spool = await openSpool({ dir });
    await spool.append(makeEnvelopes(0, 4));
    log.length = 0;
    const acked = spool.ack(await spool.lease(3)).then(() => log.push('ack resolved'));
    await acked;
    expect(log).toEqual(['synced CURSOR.tmp', 'synced dir spool', 'ack resolved']);
    const cursor = JSON.parse(await readFile(join(dir, 'CURSOR'), 'utf8')) as { seq: number; offset: number };
    expect(cursor.seq).toBe(1);
    expect(cursor.offset).toBe(encodeFrames(makeEnvelopes(0, 3)).buffer.length);
  });

  it('deletes a segment once every record in it is acknowledged, never the active one', async () => {
    const dir = await tempDir();
    const spool = await openSpool({ dir, maxSegmentBytes: 400 });
    for (let i = 0; i < 10; i += 1) await spool.append(makeEnvelopes(i * 3, 3, 'd', 60));
    const before = await segmentFiles(dir);
    expect(before.length).toBeGreaterThan(3);
    expect(await drainAll(spool)).toHaveLength(30);
    expect(await segmentFiles(dir)).toEqual([before.at(-1)]);
    expect((await spool.stats()).segments).toBe(1);
    await spool.close();
    const reopened = await openSpool({ dir, maxSegmentBytes: 400 });
    expect(await segmentFiles(dir)).toEqual([]);
    expect(await reopened.stats()).toMatchObject({ records: 0, segments: 0 });
  });

  it('removes a segment the cursor had already passed when a crash kept it from being deleted', async () => {
    const dir = await tempDir();
    const spool = await createDiskSpool({ dir, maxSegmentBytes: 400 });
    for (let i = 0; i < 6; i += 1) await spool.append(makeEnvelopes(i * 3, 3, 'c', 60));
    const [first] = await segmentFiles(dir);
    await copyFile(join(dir, first!), join(dir, 'saved'));
    expect(await drainAll(spool)).toHaveLength(18);
    await spool.close();
    expect(await segmentFiles(dir)).not.toContain(first);
    await copyFile(join(dir, 'saved'), join(dir, first!)); // as if the crash came between cursor write and unlink
    const reopened = await openSpool({ dir, maxSegmentBytes: 400 });
    expect(await segmentFiles(dir)).not.toContain(first);
    expect((await reopened.stats()).records).toBe(0);
    expect((await reopened.lease(10)).envelopes).toHaveLength(0);
  });
});
