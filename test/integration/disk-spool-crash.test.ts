/**
 * Crash safety of the disk spool against a real process killed with SIGKILL,
 * and recovery from torn tails and corruption written by hand.
 *
 * The child (test/helpers/spool-child.ts) runs in this same node binary with
 * the tsx loader imported in-process, so SIGKILL hits the writer itself.
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { appendFile, readdir, readFile, rename, stat, truncate, writeFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { createInterface } from 'node:readline';
import { crc32 } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { createDiskSpool, type SpoolRecoveryInfo } from '../../adapters/disk/index.js';
import { encodeFrames } from '../../adapters/disk/framing.js';
import type { Envelope } from '../../src/envelope/types.js';
import { SpoolCorruptError } from '../../src/errors/index.js';
import { crashRecord, parseCrashRecordId } from '../helpers/spool-crash-records.js';
import { makeEnvelopes, makeTempDir, plain } from '../helpers/spool-fixtures.js';

const CHILD_SEGMENT_BYTES = 4_096;

const childFile = new URL('../helpers/spool-child.ts', import.meta.url).pathname;

interface RoundOutput {
  stored: string[];
  leased: string[];
  consumed: string[];
}

/** Run one child until it has reported `minStored` appends, wait `delayMs`, SIGKILL it. */
async function runChildRound(dir: string, round: number, minStored: number, delayMs: number): Promise<RoundOutput> {
  const child = spawn(process.execPath, ['--import', 'tsx', childFile, dir, String(round), String(CHILD_SEGMENT_BYTES)], { stdio: ['ignore', 'pipe', 'pipe'] });
  const exited = once(child, 'exit');
  const lines = createInterface({ input: child.stdout });
  const closed = once(lines, 'close');
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const output: RoundOutput = { stored: [], leased: [], consumed: [] };
  const enough = new Promise<void>((resolve) => {
    lines.on('line', (line) => {
      const [verb, id] = line.split(' ');
      if (verb === 'stored' && id !== undefined) output.stored.push(id);
      if (verb === 'leased' && id !== undefined) output.leased.push(id);
      if (verb === 'consumed' && id !== undefined) output.consumed.push(id);
      if (output.stored.length >= minStored) resolve();
    });
  });
  const early = exited.then(() => {
    throw new Error(`child exited before it stored ${minStored} records: ${stderr}`);
  });
  const deadline = AbortSignal.timeout(30_000);
  const late = once(deadline, 'abort').then(() => {
    throw new Error(`child stored only ${output.stored.length} of ${minStored} records in 30 s: ${stderr}`);
  });
  try {
    await Promise.race([enough, early, late]);
  } catch (error) {
    child.kill('SIGKILL');
    throw error;
  }
  early.catch(() => undefined);
  late.catch(() => undefined);
  await new Promise((resolve) => setTimeout(resolve, delayMs)); // a random crash point, not synchronisation
  child.kill('SIGKILL');
  const [, signal] = await exited;
  expect(signal).toBe('SIGKILL');
  await closed;
  return output;
}

/** Open the spool, lease everything it holds (without acking), close it. */
async function readBack(dir: string): Promise<{ envelopes: Envelope[]; info: SpoolRecoveryInfo }> {
  const spool = await createDiskSpool({ dir, maxSegmentBytes: CHILD_SEGMENT_BYTES });
  const envelopes: Envelope[] = [];
  try {
    for (let lease = await spool.lease(500); lease.envelopes.length > 0; lease = await spool.lease(500)) envelopes.push(...lease.envelopes);
    return { envelopes, info: spool.recovery };
  } finally {
    await spool.close();
  }
}

/** Records come back in append order: rounds never go backwards, each writer's seqs only go up. */
function expectAppendOrder(ids: readonly string[]): void {
  let lastRound = -1;
  const lastSeq = new Map<string, number>();
  for (const id of ids) {
    const { round, writer, seq } = parseCrashRecordId(id);
    expect(round).toBeGreaterThanOrEqual(lastRound);
    lastRound = round;
    const key = `${round}/${writer}`;
    expect(seq).toBeGreaterThan(lastSeq.get(key) ?? -1);
    lastSeq.set(key, seq);
  }
}

describe('disk spool under SIGKILL', () => {
  it('keeps every acknowledged append and never returns an acknowledged lease, over 5 crashes', async () => {
    const { dir, cleanup } = await makeTempDir('crash');
    const stored = new Set<string>();
    const leased = new Set<string>();
    const consumed = new Set<string>();
    try {
      for (let round = 0; round < 5; round += 1) {
        const out = await runChildRound(dir, round, 20 + Math.floor(Math.random() * 400), Math.floor(Math.random() * 25));
        out.stored.forEach((id) => stored.add(id));
        out.leased.forEach((id) => leased.add(id));
        out.consumed.forEach((id) => consumed.add(id));
        expect(out.stored.length).toBeGreaterThanOrEqual(20);

        const { envelopes } = await readBack(dir);
        const ids = envelopes.map((e) => e.id);
        const present = new Set(ids);
        expect(present.size).toBe(ids.length);
        for (const envelope of envelopes) expect(plain(envelope)).toEqual(plain(crashRecord(envelope.id)));
        // Stored and never leased: must be there. Leased but not reported consumed: its ack may have landed.
        for (const id of stored) if (!leased.has(id)) expect(present.has(id), `acknowledged ${id} is missing`).toBe(true);
        for (const id of consumed) expect(present.has(id), `consumed ${id} came back`).toBe(false);
        expectAppendOrder(ids);
      }
      expect(consumed.size).toBeGreaterThan(0);
    } finally {
      await cleanup();
    }
  });
});

async function spoolWith(envelopeBatches: readonly Envelope[][], maxSegmentBytes = 1 << 20): Promise<{ dir: string; cleanup: () => Promise<void>; segments: string[] }> {
  const temp = await makeTempDir('damage');
  const spool = await createDiskSpool({ dir: temp.dir, maxSegmentBytes });
  for (const batch of envelopeBatches) await spool.append(batch);
  await spool.close();
  const segments = (await readdir(temp.dir)).filter((f) => f.endsWith('.seg')).sort();
  return { ...temp, segments: segments.map((f) => join(temp.dir, f)) };
}

describe('disk spool recovery from damaged files', () => {
  const records = makeEnvelopes(0, 10, 'dmg', 40);
  const frame = encodeFrames(makeEnvelopes(100, 1, 'dmg', 40)).buffer;
  const badCrc = Buffer.from(frame);
  badCrc[badCrc.length - 1]! ^= 0xff;
  const tails: Array<[string, Buffer]> = [
    ['half a frame', frame.subarray(0, Math.floor(frame.length / 2))],
    ['three bytes of a header', frame.subarray(0, 3)],
    ['a whole frame with a bad CRC', badCrc],
    ['a zero-filled tail', Buffer.alloc(300)],
    // One group-commit write never fdatasync'd, its pages written back out of order before a power loss:
    ['a hole followed by a whole frame', Buffer.concat([Buffer.alloc(4_096), frame])],
    ['a bad frame followed by a good one', Buffer.concat([badCrc, frame])],
    ['garbage followed by a good frame', Buffer.concat([Buffer.from('garbage, not a frame header'), frame])],
  ];

  it.each(tails)('cuts %s off the end of the last segment, keeps the cut bytes aside and everything before it', async (_label, tail) => {
    const { dir, cleanup, segments } = await spoolWith([records.slice(0, 4), records.slice(4)]);
    try {
      const last = segments.at(-1)!;
      const goodSize = (await stat(last)).size;
      await appendFile(last, tail);
      const reports: SpoolRecoveryInfo[] = [];
      const spool = await createDiskSpool({ dir, onRecovered: (info) => reports.push(info) });
      expect(reports).toHaveLength(1);
      expect(reports[0]).toMatchObject({ records: 10, bytesDropped: tail.length, truncated: [{ file: last, offset: goodSize, bytesDropped: tail.length }] });
      expect((await stat(last)).size).toBe(goodSize);
      const keptAs = reports[0]!.truncated[0]!.keptAs;
      const aside = (await readdir(dir)).filter((f) => f.includes('.torn-'));
      if (tail.every((b) => b === 0)) {
        expect(keptAs).toBeUndefined(); // nothing but zeros: nothing to keep
        expect(aside).toEqual([]);
      } else {
        expect(keptAs).toBe(`${last}.torn-${goodSize}`);
        expect(aside).toEqual([basename(keptAs!)]);
        expect(await readFile(keptAs!)).toEqual(tail);
        expect((await stat(keptAs!)).mode & 0o777).toBe(0o600);
      }
      const lease = await spool.lease(100);
      expect(lease.envelopes.map(plain)).toEqual(records.map(plain));
      await spool.close();
    } finally {
      await cleanup();
    }
  });

  it('refuses a record corrupted in the middle of a segment that is not the last one, naming the file and offset', async () => {
    const { dir, cleanup, segments } = await spoolWith([records, records.slice(0, 1)], encodeFrames(records).buffer.length);
    try {
      expect(segments).toHaveLength(2);
      const file = segments[0]!;
      const offset = encodeFrames(records.slice(0, 3)).buffer.length;
      const bytes = await readFile(file);
      bytes[offset + 20]! ^= 0x01;
      await writeFile(file, bytes);
      const error = await createDiskSpool({ dir }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(SpoolCorruptError);
      expect((error as Error).message).toContain(file);
      expect((error as Error).message).toContain(`at byte ${offset}`);
      expect((error as Error).message).toMatch(/move the file/i);
      await rename(file, join(dir, '..', `${file.split('/').at(-1)}.inspect`)).catch(async () => rename(file, `${file}.inspect`));
      const spool = await createDiskSpool({ dir });
      expect((await spool.stats()).records).toBe(1);
      await spool.close();
    } finally {
      await cleanup();
    }
  });

  it('refuses a torn tail in a segment that is not the last one', async () => {
    const { dir, cleanup, segments } = await spoolWith([records.slice(0, 5), records.slice(5)], 400);
    try {
      expect(segments.length).toBeGreaterThan(1);
      const first = segments[0]!;
      await truncate(first, (await stat(first)).size - 5);
      const error = await createDiskSpool({ dir }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(SpoolCorruptError);
      expect((error as Error).message).toContain(first);
    } finally {
      await cleanup();
    }
  });

  it('refuses a whole, checksummed frame that is not an envelope, even at the end of the last segment', async () => {
    const { dir, cleanup, segments } = await spoolWith([records]);
    try {
      const last = segments.at(-1)!;
      const goodSize = (await stat(last)).size;
      const payload = Buffer.from('a payload some other program framed');
      const header = Buffer.alloc(8);
      header.writeUInt32BE(payload.length, 0);
      header.writeUInt32BE(crc32(payload), 4);
      await appendFile(last, Buffer.concat([header, payload]));
      const error = await createDiskSpool({ dir }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(SpoolCorruptError);
      expect((error as Error).message).toContain(`${last} is corrupt at byte ${goodSize}`);
    } finally {
      await cleanup();
    }
  });
});
