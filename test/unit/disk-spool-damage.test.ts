/**
 * Damage is never mistaken for a torn tail, and never takes the spool down:
 * bad bytes are quarantined, reported (event + log line naming file and
 * offset) and skipped; only an incomplete final frame (or zeros) with nothing
 * valid after it is cut off the last segment.
 */
import { appendFile, readdir, readFile, stat, truncate, writeFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { crc32 } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { createDiskSpool, type DiskSpool, type DiskSpoolOptions } from '../../adapters/disk/index.js';
import { encodeFrames } from '../../adapters/disk/framing.js';
import type { Envelope } from '../../src/envelope/types.js';
import { watchSpool } from '../helpers/spool-log.js';
import { makeEnvelopes, plain, useScratch } from '../helpers/spool-fixtures.js';

const { tempDir, track } = useScratch('damage');

async function open(options: DiskSpoolOptions): Promise<DiskSpool> {
  return track(await createDiskSpool(options));
}

/** A closed spool holding `batches`; its segment paths. */
async function spoolWith(batches: readonly Envelope[][], maxSegmentBytes = 1 << 20): Promise<{ dir: string; segments: string[] }> {
  const dir = await tempDir();
  const spool = await createDiskSpool({ dir, maxSegmentBytes, logger: watchSpool().logger });
  for (const batch of batches) await spool.append(batch);
  await spool.close();
  const segments = (await readdir(dir)).filter((f) => f.endsWith('.seg')).sort();
  return { dir, segments: segments.map((f) => join(dir, f)) };
}

async function leaseAll(spool: DiskSpool, ack = false): Promise<Envelope[]> {
  const out: Envelope[] = [];
  for (let lease = await spool.lease(64); lease.envelopes.length > 0; lease = await spool.lease(64)) {
    out.push(...lease.envelopes);
    if (ack) await spool.ack(lease);
  }
  return out;
}

const quarantined = async (dir: string): Promise<string[]> => (await readdir(join(dir, 'quarantine')).catch(() => [] as string[])).sort();
const torn = async (dir: string): Promise<string[]> => (await readdir(dir)).filter((f) => f.includes('.torn-'));

const records = makeEnvelopes(0, 10, 'dmg', 40);
const extra = makeEnvelopes(100, 1, 'dmg', 40);
const frame = encodeFrames(extra).buffer;
const badCrc = Buffer.from(frame);
badCrc[badCrc.length - 1]! ^= 0xff;

describe('disk spool: a torn tail is only an incomplete final frame (or zeros) with nothing valid after it', () => {
  const tails: Array<[string, Buffer]> = [
    ['half a frame', frame.subarray(0, Math.floor(frame.length / 2))],
    ['three bytes of a header', frame.subarray(0, 3)],
    ['a zero-filled tail', Buffer.alloc(300)],
  ];
  it.each(tails)('cuts %s off the last segment, keeps it aside, and reports no damage', async (_label, tail) => {
    const { dir, segments } = await spoolWith([records.slice(0, 4), records.slice(4)]);
    const last = segments.at(-1)!;
    const goodSize = (await stat(last)).size;
    await appendFile(last, tail);
    const watch = watchSpool();
    const spool = await open({ dir, logger: watch.logger, onEvent: watch.onEvent });
    expect(spool.recovery).toMatchObject({ records: 10, bytesDropped: tail.length, truncated: [{ file: last, offset: goodSize }], damaged: [] });
    expect((await stat(last)).size).toBe(goodSize);
    expect(await torn(dir)).toEqual(tail.every((b) => b === 0) ? [] : [`${basename(last)}.torn-${goodSize}`]);
    expect(watch.events).toEqual([]);
    expect((await leaseAll(spool)).map(plain)).toEqual(records.map(plain));
  });
});

describe('disk spool: damage is quarantined, reported and skipped; the spool opens', () => {
  const cases: Array<[string, Buffer, Envelope[]]> = [
    ['a whole final frame with a bad CRC', badCrc, records],
    ['a hole followed by a whole frame', Buffer.concat([Buffer.alloc(4_096), frame]), [...records, ...extra]],
    ['a bad frame followed by a good one', Buffer.concat([badCrc, frame]), [...records, ...extra]],
    ['garbage followed by a good frame', Buffer.concat([Buffer.from('garbage, not a frame header'), frame]), [...records, ...extra]],
  ];
  it.each(cases)('%s at the end of the last segment', async (_label, tail, expected) => {
    const { dir, segments } = await spoolWith([records.slice(0, 4), records.slice(4)]);
    const last = segments.at(-1)!;
    const goodSize = (await stat(last)).size;
    await appendFile(last, tail);
    const watch = watchSpool();
    const spool = await open({ dir, logger: watch.logger, onEvent: watch.onEvent });
    expect(await torn(dir)).toEqual([]);
    expect(watch.events).toEqual([expect.objectContaining({ type: 'quarantined', file: last, offset: goodSize })]);
    expect(watch.lines).toEqual([expect.objectContaining({ file: last, offset: goodSize, msg: expect.stringMatching(/damaged.*quarantine/) })]);
    expect(await quarantined(dir)).toEqual([`${basename(last)}.${goodSize}.bad`]);
    expect((await leaseAll(spool)).map(plain)).toEqual(expected.map(plain));
  });

  it('four bytes flipped in the middle of the last segment after a clean close: the 999 other records are replayed', async () => {
    const all = makeEnvelopes(0, 1_000, 'mid', 60);
    const { dir, segments } = await spoolWith([all.slice(0, 500), all.slice(500)]);
    const last = segments.at(-1)!;
    const bytes = await readFile(last);
    const frameBytes = encodeFrames(all.slice(0, 1)).buffer.length;
    const victim = 500;
    const offset = encodeFrames(all.slice(0, victim)).buffer.length;
    for (let i = 0; i < 4; i += 1) bytes[offset + Math.floor(frameBytes / 2) + i]! ^= 0x5a;
    await writeFile(last, bytes);
    const watch = watchSpool();
    const spool = await open({ dir, logger: watch.logger, onEvent: watch.onEvent });
    expect(spool.recovery.damaged).toEqual([expect.objectContaining({ file: last, offset, end: offset + frameBytes })]);
    expect(watch.events).toHaveLength(1);
    expect(await torn(dir)).toEqual([]);
    const back = await leaseAll(spool, true);
    expect(back.map((e) => e.id)).toEqual(all.filter((_, i) => i !== victim).map((e) => e.id));
    expect(await readFile(join(dir, 'quarantine', `${basename(last)}.${offset}.bad`))).toEqual(bytes.subarray(offset, offset + frameBytes));
    // Everything acknowledged: the cursor moved over the damage, so a reopen neither replays nor reports it again.
    await spool.close();
    const again = watchSpool();
    const reopened = await open({ dir, logger: again.logger, onEvent: again.onEvent });
    expect(again.events).toEqual([]);
    expect(await leaseAll(reopened)).toEqual([]);
  });

  it('the same damage in an earlier segment, and an impossible length, do not stop the spool either', async () => {
    const { dir, segments } = await spoolWith([records.slice(0, 5), records.slice(5)], encodeFrames(records.slice(0, 5)).buffer.length);
    expect(segments).toHaveLength(2);
    const first = segments[0]!;
    const bytes = await readFile(first);
    const second = encodeFrames(records.slice(0, 1)).buffer.length;
    const fourth = encodeFrames(records.slice(0, 3)).buffer.length;
    bytes[second + 20]! ^= 0x01; // bad CRC
    bytes.writeUInt32BE(0xfffffff0, fourth); // impossible length
    await writeFile(first, bytes);
    const watch = watchSpool();
    const spool = await open({ dir, logger: watch.logger, onEvent: watch.onEvent });
    expect(watch.events.map((e) => (e.type === 'quarantined' ? [e.file, e.offset] : []))).toEqual([
      [first, second],
      [first, fourth],
    ]);
    expect((await leaseAll(spool)).map((e) => e.id)).toEqual(records.filter((_, i) => i !== 1 && i !== 3).map((e) => e.id));
  });

  it('quarantines a checksummed frame that is not an envelope, and a segment cut short that is not the last', async () => {
    const { dir, segments } = await spoolWith([records.slice(0, 4), records.slice(4, 7), records.slice(7)], 400);
    expect(segments.length).toBeGreaterThan(2);
    const first = segments[0]!;
    await truncate(first, (await stat(first)).size - 5);
    const payload = Buffer.from('a payload some other program framed');
    const header = Buffer.alloc(8);
    header.writeUInt32BE(payload.length, 0);
    header.writeUInt32BE(crc32(payload), 4);
    await appendFile(segments[1]!, Buffer.concat([header, payload]));
    const watch = watchSpool();
    const spool = await open({ dir, logger: watch.logger, onEvent: watch.onEvent });
    expect(watch.events.map((e) => (e.type === 'quarantined' ? e.file : ''))).toEqual([first, segments[1]]);
    expect((await leaseAll(spool)).length).toBe(records.length - 1);
  });

  it('quarantines damage that appears while the spool is open, when it is read', async () => {
    const dir = await tempDir();
    const watch = watchSpool();
    const spool = await open({ dir, logger: watch.logger, onEvent: watch.onEvent });
    await spool.append(records);
    const [segment] = (await readdir(dir)).filter((f) => f.endsWith('.seg'));
    const file = join(dir, segment!);
    const bytes = await readFile(file);
    const offset = encodeFrames(records.slice(0, 6)).buffer.length;
    bytes[offset + 30]! ^= 0xff;
    await writeFile(file, bytes);
    const back = await leaseAll(spool, true);
    expect(back.map((e) => e.id)).toEqual(records.filter((_, i) => i !== 6).map((e) => e.id));
    expect(watch.events).toEqual([expect.objectContaining({ type: 'quarantined', file, offset })]);
    expect((await spool.stats()).records).toBe(0);
  });
});

/** Byte offsets of the frames in a segment file, read from their length headers. */
async function frameStarts(file: string): Promise<number[]> {
  const bytes = await readFile(file);
  const starts: number[] = [];
  for (let at = 0; at + 8 <= bytes.length; at += 8 + bytes.readUInt32BE(at)) starts.push(at);
  return starts;
}

/** Flip one payload byte of each listed frame of `file` (the frames stay framed; their CRCs fail). */
async function damageFrames(file: string, indexes: readonly number[]): Promise<number[]> {
  const starts = await frameStarts(file);
  const bytes = await readFile(file);
  for (const i of indexes) bytes[starts[i]! + 20]! ^= 0xff;
  await writeFile(file, bytes);
  return indexes.map((i) => starts[i]!);
}

const segmentsOf = async (dir: string): Promise<string[]> => (await readdir(dir)).filter((f) => f.endsWith('.seg')).sort().map((f) => join(dir, f));

describe('disk spool: damage that appears while the spool is open is reported once and counted out exactly', () => {
  it.each([
    ['leasing only', false],
    ['a survey (scan) first, as the reconciler does', true],
  ])('one damaged record, %s: one report, 9 of 10 records out, stats back to 0', async (_label, scanFirst) => {
    const dir = await tempDir();
    const watch = watchSpool();
    const spool = await open({ dir, logger: watch.logger, onEvent: watch.onEvent });
    await spool.append(records);
    const [file] = await segmentsOf(dir);
    const [offset] = await damageFrames(file!, [6]);
    if (scanFirst) {
      const seen: string[] = [];
      await spool.scan!((e) => seen.push(e.id));
      expect(seen).toEqual(records.filter((_, i) => i !== 6).map((e) => e.id));
      expect((await spool.stats()).records).toBe(9);
      await spool.scan!(() => undefined); // a second survey skips the known range silently
    }
    const back = await leaseAll(spool, true);
    expect(back.map((e) => e.id)).toEqual(records.filter((_, i) => i !== 6).map((e) => e.id));
    expect(watch.events).toEqual([expect.objectContaining({ type: 'quarantined', file, offset })]);
    expect(watch.lines).toEqual([expect.objectContaining({ file, offset, msg: expect.stringMatching(/damaged.*quarantine/) })]);
    expect(await quarantined(dir)).toEqual([`${basename(file!)}.${offset}.bad`]);
    expect(await spool.stats()).toMatchObject({ records: 0, bytes: 0 });
  });

  it.each([
    ['leasing only', false],
    ['a survey first', true],
  ])('two adjacent damaged records are one range but count as two, %s', async (_label, scanFirst) => {
    const dir = await tempDir();
    const watch = watchSpool();
    const spool = await open({ dir, logger: watch.logger, onEvent: watch.onEvent });
    for (const record of records) await spool.append([record]);
    const [file] = await segmentsOf(dir);
    await damageFrames(file!, [3, 4]);
    if (scanFirst) await spool.scan!(() => undefined);
    const lease = await spool.lease(64);
    expect(lease.envelopes.map((e) => e.id)).toEqual(records.filter((_, i) => i !== 3 && i !== 4).map((e) => e.id));
    // Read to the end of the segment: the two lost records are counted out, the 8 leased ones are not yet.
    expect((await spool.stats()).records).toBe(8);
    await spool.ack(lease);
    expect(watch.events).toHaveLength(1);
    expect(await spool.stats()).toMatchObject({ records: 0, bytes: 0 });
    await spool.append(extra);
    expect((await spool.stats()).records).toBe(1);
    expect((await leaseAll(spool, true)).map((e) => e.id)).toEqual(extra.map((e) => e.id));
    expect(await spool.stats()).toMatchObject({ records: 0, bytes: 0 });
  });

  it('counts in and out across segments, lease sizes and surveys: never negative, 0 once drained', async () => {
    for (const leaseMax of [1, 3, 64]) {
      for (const scanFirst of [false, true]) {
        const all = makeEnvelopes(0, 30, `seg-${leaseMax}-${String(scanFirst)}`, 40);
        const dir = await tempDir();
        const watch = watchSpool();
        const spool = await open({ dir, logger: watch.logger, onEvent: watch.onEvent, maxSegmentBytes: encodeFrames(all.slice(0, 10)).buffer.length });
        for (let i = 0; i < all.length; i += 5) await spool.append(all.slice(i, i + 5));
        const files = await segmentsOf(dir);
        expect(files).toHaveLength(3);
        // Segment 0: its last three records (a range running to the end of a sealed segment); segment 1: two apart; segment 2: the first.
        await damageFrames(files[0]!, [7, 8, 9]);
        await damageFrames(files[1]!, [2, 5]);
        await damageFrames(files[2]!, [0]);
        const lost = new Set([7, 8, 9, 12, 15, 20]);
        if (scanFirst) await spool.scan!(() => undefined);
        const out: string[] = [];
        for (let lease = await spool.lease(leaseMax); lease.envelopes.length > 0; lease = await spool.lease(leaseMax)) {
          const stats = await spool.stats();
          expect(stats.records).toBeGreaterThanOrEqual(lease.envelopes.length);
          expect(stats.records).toBeGreaterThanOrEqual(all.length - lost.size - out.length);
          out.push(...lease.envelopes.map((e) => e.id));
          await spool.ack(lease);
        }
        expect(out).toEqual(all.filter((_, i) => !lost.has(i)).map((e) => e.id));
        expect(watch.events).toHaveLength(4);
        expect(await spool.stats()).toMatchObject({ records: 0, bytes: 0 });
        await spool.close();
      }
    }
  });

  it('a survey that finds damage under records already leased does not count them out twice', async () => {
    const dir = await tempDir();
    const watch = watchSpool();
    const spool = await open({ dir, logger: watch.logger, onEvent: watch.onEvent });
    await spool.append(records.slice(0, 5));
    const lease = await spool.lease(64);
    expect(lease.envelopes).toHaveLength(5);
    const [file] = await segmentsOf(dir);
    await damageFrames(file!, [2]);
    await spool.scan!(() => undefined);
    expect(watch.events).toHaveLength(1);
    expect((await spool.stats()).records).toBe(5);
    await spool.ack(lease);
    expect(await spool.stats()).toMatchObject({ records: 0, bytes: 0 });
  });
});
