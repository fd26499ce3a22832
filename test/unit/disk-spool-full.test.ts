/**
 * Full is explicit: `whenFull: 'reject'` fails at once with SpoolFullError,
 * `'block'` waits for room up to `blockTimeoutMs`. Never a silent drop, never
 * an eviction. ENOSPC from the filesystem (injected here through the io seam;
 * a real full tmpfs in disk-spool-enospc.test.ts) is handled the same way,
 * and appends succeed again without a restart once there is room.
 */
import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createDiskSpool, type DiskSpool, type DiskSpoolOptions } from '../../adapters/disk/index.js';
import { ClosedError, SpoolFullError, hasCode } from '../../src/errors/index.js';
import { fsError, replaceDiskIo } from '../helpers/spool-faults.js';
import { makeEnvelopes, useScratch } from '../helpers/spool-fixtures.js';
import { watchSpool } from '../helpers/spool-log.js';

const { tempDir, defer, track } = useScratch('full');

async function open(options: DiskSpoolOptions): Promise<DiskSpool> {
  return track(await createDiskSpool({ logger: watchSpool().logger, ...options }));
}

async function drainIds(spool: DiskSpool): Promise<string[]> {
  const out: string[] = [];
  for (let lease = await spool.lease(50); lease.envelopes.length > 0; lease = await spool.lease(50)) {
    out.push(...lease.envelopes.map((e) => e.id));
    await spool.ack(lease);
  }
  return out;
}

const segmentSizes = async (dir: string): Promise<number[]> =>
  Promise.all((await readdir(dir)).filter((f) => f.endsWith('.seg')).sort().map(async (f) => (await stat(join(dir, f))).size));

/** Make `writeSegment` fail with ENOSPC while `full()` is true. */
function fillDisk(full: () => boolean): { attempts: () => number } {
  let attempts = 0;
  defer(
    replaceDiskIo('writeSegment', (original) => async (handle, buffers, file) => {
      if (full()) {
        attempts += 1;
        throw fsError('ENOSPC', 'ENOSPC: no space left on device, write');
      }
      return original(handle, buffers, file);
    }),
  );
  return { attempts: () => attempts };
}

describe("disk spool: whenFull 'block' waits for room under maxBytes", () => {
  it('resolves a blocked append once records are acknowledged, and stores it after the others', async () => {
    const spool = await open({ dir: await tempDir(), maxBytes: 3_000, whenFull: 'block', blockTimeoutMs: 20_000 });
    await spool.append(makeEnvelopes(0, 4, 'b', 500));
    let settled = false;
    const blocked = spool.append(makeEnvelopes(4, 2, 'b', 500)).finally(() => (settled = true));
    await new Promise((resolve) => setImmediate(resolve));
    expect(settled).toBe(false);
    await spool.ack(await spool.lease(3));
    await blocked;
    expect(await drainIds(spool)).toEqual(makeEnvelopes(3, 3, 'b').map((e) => e.id));
  });

  it('fails with SpoolFullError naming the cap, the directory and the wait once blockTimeoutMs passes', async () => {
    const dir = await tempDir();
    const spool = await open({ dir, maxBytes: 2_000, whenFull: 'block', blockTimeoutMs: 30 });
    await spool.append(makeEnvelopes(0, 3, 't', 500));
    const error = await spool.append(makeEnvelopes(3, 2, 't', 500)).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SpoolFullError);
    expect(error).toMatchObject({ reason: 'timeout' });
    expect((error as Error).message).toContain(dir);
    expect((error as Error).message).toMatch(/spool\.maxBytes.*after waiting \d+ ms.*blockTimeoutMs/);
    expect(await drainIds(spool)).toEqual(makeEnvelopes(0, 3, 't').map((e) => e.id));
  });

  it('fails a blocked append with ClosedError when the spool closes, and still rejects a batch larger than the cap at once', async () => {
    const spool = await createDiskSpool({ dir: await tempDir(), maxBytes: 2_000, whenFull: 'block', blockTimeoutMs: 60_000, logger: watchSpool().logger });
    await spool.append(makeEnvelopes(0, 3, 'c', 500));
    await expect(spool.append(makeEnvelopes(9, 5, 'c', 500))).rejects.toMatchObject({ reason: 'too-large' });
    const blocked = spool.append(makeEnvelopes(3, 2, 'c', 500)).catch((e: unknown) => e);
    await spool.close();
    expect(hasCode(await blocked, ClosedError.code)).toBe(true);
  });
});

describe('disk spool: ENOSPC from the filesystem', () => {
  it("with whenFull 'reject': SpoolFullError saying the disk is full, nothing stored touched, and appends work again without a restart", async () => {
    const dir = await tempDir();
    let full = false;
    fillDisk(() => full);
    const spool = await open({ dir });
    await spool.append(makeEnvelopes(0, 5, 'ns'));
    const sizes = await segmentSizes(dir);
    full = true;
    const error = await spool.append(makeEnvelopes(5, 3, 'ns')).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SpoolFullError);
    expect(error).toMatchObject({ reason: 'disk-full', spool: `disk:${dir}` });
    expect((error as Error).message).toMatch(new RegExp(`filesystem holding spool ${dir} is full \\(ENOSPC\\).*nothing already stored was touched.*without a restart`));
    expect(await segmentSizes(dir)).toEqual(sizes);
    expect((await spool.stats()).records).toBe(5);
    full = false;
    await spool.append(makeEnvelopes(5, 3, 'ns'));
    expect(await drainIds(spool)).toEqual(makeEnvelopes(0, 8, 'ns').map((e) => e.id));
  });

  it("with whenFull 'block': the append waits and lands once space comes back", async () => {
    let full = true;
    const disk = fillDisk(() => full);
    const spool = await open({ dir: await tempDir(), whenFull: 'block', blockTimeoutMs: 20_000 });
    const pending = spool.append(makeEnvelopes(0, 3, 'nb'));
    // Space comes back after the spool has retried at least twice.
    const deadline = Date.now() + 10_000;
    while (disk.attempts() < 2 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
    expect(disk.attempts()).toBeGreaterThanOrEqual(2);
    full = false;
    await pending;
    expect(await drainIds(spool)).toEqual(makeEnvelopes(0, 3, 'nb').map((e) => e.id));
  });
});
