/**
 * fdatasync is tested, not assumed. SIGKILL keeps the page cache, so a crash
 * test passes with the fdatasync removed; these tests watch the call itself
 * through the io seam (adapters/disk/io-seam.ts, the real call underneath):
 * (a) no append resolves before an fdatasync covering its bytes returned;
 * (b) an fdatasync that fails with EIO fails its batch, and that segment
 *     takes no more appends (a retried fsync can report success for pages the
 *     kernel already dropped).
 */
import { readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createDiskSpool, type DiskSpool, type DiskSpoolOptions } from '../../adapters/disk/index.js';
import { checkFrame } from '../../adapters/disk/framing.js';
import { decodeEnvelope } from '../../src/envelope/codec.js';
import { SpoolCorruptError, hasCode } from '../../src/errors/index.js';
import { fsError, replaceDiskIo } from '../helpers/spool-faults.js';
import { makeEnvelopes, useScratch } from '../helpers/spool-fixtures.js';
import { watchSpool } from '../helpers/spool-log.js';

const { tempDir, defer, track } = useScratch('fsync');

async function open(options: DiskSpoolOptions): Promise<DiskSpool> {
  return track(await createDiskSpool({ logger: watchSpool().logger, ...options }));
}

/** Where each record ended up: segment file and the offset just past its frame. */
async function recordEnds(dir: string): Promise<Map<string, { file: string; end: number }>> {
  const out = new Map<string, { file: string; end: number }>();
  for (const name of (await readdir(dir)).filter((f) => f.endsWith('.seg'))) {
    const file = join(dir, name);
    const buf = await readFile(file);
    for (let at = 0; at < buf.length; ) {
      const check = checkFrame(buf, at);
      if (!check.ok) break;
      out.set(decodeEnvelope(check.payload).id, { file, end: check.end });
      at = check.end;
    }
  }
  return out;
}

describe('disk spool: fdatasync before acknowledgement', () => {
  it('resolves no append before an fdatasync covering its bytes has returned', async () => {
    const dir = await tempDir();
    /** Completed fdatasyncs: the file and how many bytes it held when the call began. */
    const completed: Array<{ file: string; covered: number }> = [];
    defer(
      replaceDiskIo('syncSegment', (original) => async (handle, file) => {
        const covered = (await handle.stat()).size;
        await new Promise((resolve) => setImmediate(resolve)); // widen the window a wrong order would fall into
        await original(handle, file);
        completed.push({ file, covered });
      }),
    );
    const spool = await open({ dir, maxSegmentBytes: 4_096 });
    const snapshots = new Map<string, Array<{ file: string; covered: number }>>();
    const batches = Array.from({ length: 120 }, (_, i) => makeEnvelopes(i * 3, 1 + (i % 3), 'fs', 50));
    await Promise.all(batches.map((batch) => spool.append(batch).then(() => snapshots.set(batch.at(-1)!.id, [...completed]))));

    const ends = await recordEnds(dir);
    expect(snapshots.size).toBe(batches.length);
    for (const [id, seen] of snapshots) {
      const at = ends.get(id);
      expect(at, `record ${id} is in a segment`).toBeDefined();
      expect(
        seen.some((s) => s.file === at!.file && s.covered >= at!.end),
        `append ending with ${id} resolved before an fdatasync of ${at!.file} covering byte ${at!.end}`,
      ).toBe(true);
    }
    expect(completed.length).toBeLessThan(batches.length); // still group commit
  });

  it('fails the batch when fdatasync says EIO, and never appends to that segment again', async () => {
    const dir = await tempDir();
    let failNext = false;
    const writesAfter: string[] = [];
    let poisoned: string | undefined;
    defer(
      replaceDiskIo('syncSegment', (original) => async (handle, file) => {
        if (failNext) {
          failNext = false;
          poisoned = file;
          throw fsError('EIO', 'EIO: i/o error, fdatasync');
        }
        await original(handle, file);
      }),
      replaceDiskIo('writeSegment', (original) => async (handle, buffers, file) => {
        if (poisoned !== undefined) writesAfter.push(file);
        return original(handle, buffers, file);
      }),
    );
    const spool = await open({ dir });
    const before = makeEnvelopes(0, 5, 'eio');
    await spool.append(before);
    failNext = true;
    const failed = makeEnvelopes(5, 3, 'eio');
    const error = await spool.append(failed).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SpoolCorruptError);
    expect((error as Error).message).toMatch(/fdatasync of spool segment .*EIO.*takes no more appends/);
    expect(poisoned).toBeDefined();
    const poisonedSize = (await stat(poisoned!)).size;

    const after = makeEnvelopes(8, 4, 'eio');
    await spool.append(after.slice(0, 2));
    await spool.append(after.slice(2));
    expect(writesAfter.length).toBeGreaterThan(0);
    expect(writesAfter.every((file) => file !== poisoned)).toBe(true);
    expect((await stat(poisoned!)).size).toBeLessThanOrEqual(poisonedSize);
    expect((await spool.stats()).records).toBe(before.length + after.length);

    const lease = await spool.lease(100);
    expect(lease.envelopes.map((e) => e.id)).toEqual([...before, ...after].map((e) => e.id));
    await spool.close();
    // After a restart every acknowledged record is there; the failed batch may be too (at least once, never garbage).
    const reopened = await open({ dir });
    const ids = (await reopened.lease(100)).envelopes.map((e) => e.id);
    for (const e of [...before, ...after]) expect(ids).toContain(e.id);
    expect(ids.every((id) => id.startsWith('eio-'))).toBe(true);
  });

  it('rejects appends queued behind a failed fdatasync with the same error, not a hang', async () => {
    const dir = await tempDir();
    let fail = true;
    defer(
      replaceDiskIo('syncSegment', (original) => async (handle, file) => {
        if (fail) {
          fail = false;
          throw fsError('EIO', 'EIO: i/o error, fdatasync');
        }
        await original(handle, file);
      }),
    );
    const spool = await open({ dir });
    const results = await Promise.allSettled(Array.from({ length: 10 }, (_, i) => spool.append(makeEnvelopes(i, 1, 'q'))));
    const rejected = results.filter((r) => r.status === 'rejected');
    expect(rejected.length).toBeGreaterThan(0);
    for (const r of rejected) expect(hasCode((r as PromiseRejectedResult).reason, SpoolCorruptError.code)).toBe(true);
    expect((await spool.stats()).records).toBe(results.length - rejected.length);
  });
});
