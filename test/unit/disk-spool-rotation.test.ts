/**
 * The disk spool where reading, acknowledging and segment rotation meet:
 * the read position and the cursor reach the end of a segment while the
 * writer is opening, or has not yet made durable, the next one. Driven step
 * by step through the io seam (adapters/disk/io-seam.ts); after each run the
 * spool is closed without acknowledging the rest, reopened, and every record
 * not acknowledged must be handed out again.
 */
import { readdir } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { createDiskSpool, type DiskSpool, type DiskSpoolOptions } from '../../adapters/disk/index.js';
import { replaceDiskIo } from '../helpers/spool-faults.js';
import { makeEnvelopes, useScratch } from '../helpers/spool-fixtures.js';

const { tempDir, defer, track } = useScratch('rotation');

async function openSpool(options: DiskSpoolOptions): Promise<DiskSpool> {
  return track(await createDiskSpool(options));
}

const segmentFiles = async (dir: string): Promise<string[]> => (await readdir(dir)).filter((f) => f.endsWith('.seg')).sort();

/** Lease until the spool is empty, without acknowledging; the ids, in order. */
async function leaseAll(spool: DiskSpool): Promise<string[]> {
  const out: string[] = [];
  for (let lease = await spool.lease(100); lease.envelopes.length > 0; lease = await spool.lease(100)) out.push(...lease.envelopes.map((e) => e.id));
  return out;
}

/** Hold every call of a seam member until `open()`; `held` resolves when the first call arrives. */
function holdSeam(name: 'syncSegment' | 'fsyncDirAfterCreate'): { held: Promise<void>; open(): void } {
  let arrived!: () => void;
  const held = new Promise<void>((resolve) => (arrived = resolve));
  let open!: () => void;
  const gate = new Promise<void>((resolve) => (open = resolve));
  defer(
    replaceDiskIo(name, ((original: (...args: never[]) => Promise<void>) =>
      async (...args: never[]) => {
        arrived();
        await gate;
        return original(...args);
      }) as never),
  );
  defer(() => open());
  return { held, open };
}

describe('disk spool: reading and acknowledging across a rotation in flight', () => {
  it('skips nothing when the reader and the cursor reach the end of a segment whose successor is not yet durable', async () => {
    const dir = await tempDir();
    const options = { dir, maxSegmentBytes: 400 };
    const spool = await openSpool(options);
    const first = makeEnvelopes(0, 3, 'a', 60);
    const second = makeEnvelopes(3, 3, 'b', 60);
    await spool.append(first);
    const lease = await spool.lease(100);
    expect(lease.envelopes.map((e) => e.id)).toEqual(first.map((e) => e.id));

    const sync = holdSeam('syncSegment');
    const appended = spool.append(second); // does not fit: a new segment, written, its fdatasync held
    await sync.held;
    expect(await segmentFiles(dir)).toHaveLength(2);
    expect((await spool.lease(100)).envelopes).toHaveLength(0); // nothing durable to hand out yet
    await spool.ack(lease); // the cursor reaches the end of the sealed segment; the new one is active
    expect(await segmentFiles(dir)).toHaveLength(1);

    sync.open();
    await appended;
    expect(await leaseAll(spool)).toEqual(second.map((e) => e.id));
    await spool.close();
    const reopened = await openSpool(options);
    expect(await leaseAll(reopened)).toEqual(second.map((e) => e.id));
  });

  it('skips nothing when acknowledgements pass every recovered segment before this process has a segment of its own', async () => {
    const dir = await tempDir();
    const options = { dir, maxSegmentBytes: 400 };
    const before = await createDiskSpool(options);
    const recovered = makeEnvelopes(0, 9, 'r', 60);
    for (let i = 0; i < recovered.length; i += 3) await before.append(recovered.slice(i, i + 3));
    await before.close();
    expect((await segmentFiles(dir)).length).toBeGreaterThan(1);

    const spool = await openSpool(options);
    const create = holdSeam('fsyncDirAfterCreate');
    const fresh = makeEnvelopes(9, 3, 'f', 60);
    const appended = spool.append(fresh); // its segment's file exists; the directory fsync is held
    await create.held;
    for (let lease = await spool.lease(2); lease.envelopes.length > 0; lease = await spool.lease(2)) await spool.ack(lease);

    create.open();
    await appended;
    expect(await leaseAll(spool)).toEqual(fresh.map((e) => e.id));
    await spool.close();
    const reopened = await openSpool(options);
    expect(await leaseAll(reopened)).toEqual(fresh.map((e) => e.id));
  });
});
