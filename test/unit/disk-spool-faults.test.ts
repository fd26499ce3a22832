/**
 * The disk spool under one-off I/O failures injected through the internal
 * seam (adapters/disk/io-seam.ts): nothing acknowledged may be lost, and the
 * spool must keep working once the failure has passed.
 */
import { readdir } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { createDiskSpool, type DiskSpool, type DiskSpoolOptions } from '../../adapters/disk/index.js';
import { segmentName } from '../../adapters/disk/segment.js';
import { SpoolCorruptError } from '../../src/errors/index.js';
import { fsError, replaceDiskIo } from '../helpers/spool-faults.js';
import { makeEnvelopes, useScratch } from '../helpers/spool-fixtures.js';

const { tempDir, defer, track } = useScratch('faults');

async function openSpool(options: DiskSpoolOptions): Promise<DiskSpool> {
  return track(await createDiskSpool(options));
}

const segmentFiles = async (dir: string): Promise<string[]> => (await readdir(dir)).filter((f) => f.endsWith('.seg')).sort();

/** Lease and acknowledge until the spool is empty; the ids, in order. */
async function drainAll(spool: DiskSpool): Promise<string[]> {
  const out: string[] = [];
  for (let lease = await spool.lease(100); lease.envelopes.length > 0; lease = await spool.lease(100)) {
    out.push(...lease.envelopes.map((e) => e.id));
    await spool.ack(lease);
  }
  return out;
}

describe('disk spool: a segment that fails to open once while leasing', () => {
  it('hands out the rest of the previous segment again and loses nothing across reopen', async () => {
    const dir = await tempDir();
    const options = { dir, maxSegmentBytes: 400 };
    const spool = await createDiskSpool(options);
    const all = makeEnvelopes(0, 12, 'eof', 60);
    for (let i = 0; i < all.length; i += 3) await spool.append(all.slice(i, i + 3));
    const segments = await segmentFiles(dir);
    expect(segments.length).toBeGreaterThan(2);

    const out: string[] = [];
    const first = await spool.lease(1); // the read position is now inside the first segment
    out.push(...first.envelopes.map((e) => e.id));
    await spool.ack(first);

    let failures = 0;
    defer(
      replaceDiskIo('openSegmentForRead', (original) => async (file) => {
        if (failures === 0 && file.endsWith(segments[1]!)) {
          failures += 1;
          throw fsError('EMFILE', 'EMFILE: too many open files');
        }
        return original(file);
      }),
    );
    await expect(spool.lease(100)).rejects.toThrow(SpoolCorruptError);
    expect(failures).toBe(1);
    expect((await spool.stats()).records).toBe(all.length - 1);

    out.push(...(await drainAll(spool)));
    await spool.close();
    const reopened = await openSpool(options);
    out.push(...(await drainAll(reopened)));
    expect(out).toEqual(all.map((e) => e.id));
    expect((await reopened.stats()).records).toBe(0);
  });
});

describe('disk spool: creating a segment fails after its file exists', () => {
  it('takes the next segment number for the next append instead of failing with EEXIST forever', async () => {
    const dir = await tempDir();
    const spool = await openSpool({ dir });
    let failures = 0;
    defer(
      replaceDiskIo('fsyncDirAfterCreate', (original) => async (d) => {
        if (failures === 0) {
          failures += 1;
          throw fsError('EIO', 'EIO: i/o error, fsync');
        }
        return original(d);
      }),
    );
    await expect(spool.append(makeEnvelopes(0, 2, 'mk'))).rejects.toThrow(SpoolCorruptError);
    expect(failures).toBe(1);
    await spool.append(makeEnvelopes(2, 2, 'mk'));
    await spool.append(makeEnvelopes(4, 2, 'mk'));
    expect(await segmentFiles(dir)).toEqual([segmentName(2)]); // the half-created segment 1 was removed
    expect((await spool.stats()).records).toBe(4);
    await spool.close();

    const reopened = await openSpool({ dir });
    expect(await drainAll(reopened)).toEqual(makeEnvelopes(2, 4, 'mk').map((e) => e.id));
  });
});

describe('disk spool: short segment writes', () => {
  it('finishes a writev that wrote only part of the group, and every record reads back intact', async () => {
    const dir = await tempDir();
    let calls = 0;
    defer(
      replaceDiskIo('writeSegment', (original) => async (handle, buffers, file) => {
        calls += 1;
        // Every other call writes only part of its first buffer, as writev(2) may.
        if (calls % 2 === 1 && (buffers[0]?.length ?? 0) > 3) return original(handle, [buffers[0]!.subarray(0, 3)], file);
        return original(handle, buffers, file);
      }),
    );
    const spool = await openSpool({ dir });
    const all = makeEnvelopes(0, 40, 'short', 30);
    await Promise.all(Array.from({ length: 10 }, (_, i) => spool.append(all.slice(i * 4, i * 4 + 4))));
    expect(calls).toBeGreaterThan(2);
    const back = await drainAll(spool);
    expect([...back].sort()).toEqual(all.map((e) => e.id).sort());
    await spool.close();
    const reopened = await openSpool({ dir });
    expect(reopened.recovery.damaged).toEqual([]);
    expect(await drainAll(reopened)).toEqual([]);
  });
});
