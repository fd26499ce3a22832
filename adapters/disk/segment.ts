/**
 * Segment files: naming, listing, the recovery scan on open (torn tails cut,
 * damage quarantined), and reading frames back for a lease.
 */
import { open, readdir, unlink, type FileHandle } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { SpoolCipher } from '../../src/contracts/spool.js';
import { isSealed, sealedKeyId } from '../../src/crypto/spool-cipher.js';
import { SpoolCorruptError, SpoolKeyMismatchError } from '../../src/errors/spool.js';
import { FRAME_HEADER_BYTES, checkFrame, findNextFrame, isTornTail } from './framing.js';
import { ioError, writeFileAtomic } from './fs-util.js';
import { diskIo } from './io-seam.js';
import { quarantineBytes, type DamagedRange } from './quarantine.js';

const SEGMENT_RE = /^(\d{20})\.seg$/;
const READ_CHUNK_BYTES = 256 * 1024;

/** File name of segment `seq`: zero-padded, so lexical order is append order. */
export function segmentName(seq: number): string {
  return `${String(seq).padStart(20, '0')}.seg`;
}

/** Sequence numbers of the segment files in `dir`, ascending. */
export async function listSegments(dir: string): Promise<number[]> {
  let names: string[];
  try {
    names = await readdir(dir);
  } catch (cause) {
    throw ioError('list the spool directory', dir, cause);
  }
  const seqs: number[] = [];
  for (const name of names) {
    const match = SEGMENT_RE.exec(name);
    if (match?.[1] !== undefined) seqs.push(Number(match[1]));
  }
  return seqs.sort((a, b) => a - b);
}

/** What the recovery scan found in one segment. */
export interface SegmentScan {
  /** Valid records from the start offset on. */
  records: number;
  /** Bytes of those records, framing included. */
  bytes: number;
  /** File size after any torn tail was cut off. */
  size: number;
  /** Bytes of torn tail cut off (only ever in the last segment). */
  dropped: number;
  /** Where the cut bytes were kept, unless they were all zeros. */
  keptAs?: string;
  /** Damaged ranges, each copied to the quarantine directory; reading skips them. */
  damaged: DamagedRange[];
}

/** Message for damage found in a segment. */
export function corruptMessage(file: string, offset: number, reason: string): string {
  return `spool segment ${file} is damaged at byte ${offset}: ${reason}`;
}

/** How scans check the records' encryption. */
export interface ScanKeys {
  /** The spool, for messages. */
  readonly spool: string;
  readonly cipher?: SpoolCipher;
}

/**
 * Check every frame of `file` from `start`. A run of bad bytes followed by a
 * valid frame, or at the end of a segment that is not the last, is damage:
 * copied to the quarantine directory and skipped (listed in `damaged`). Bad
 * bytes at the end of the last segment with nothing valid after them are a
 * torn tail when they are an incomplete frame or zeros (see
 * {@link isTornTail}): copied to `<file>.torn-<offset>` (unless all zeros),
 * then cut off with ftruncate + fsync. Throws only when the file cannot be
 * read, or holds records encrypted with another key (or encrypted when no
 * key is configured).
 */
export async function scanSegment(dir: string, file: string, start: number, isLast: boolean, keys: ScanKeys): Promise<SegmentScan> {
  let handle: FileHandle;
  try {
    handle = await open(file, isLast ? 'r+' : 'r');
  } catch (cause) {
    throw ioError('open the spool segment', file, cause);
  }
  try {
    const size = (await handle.stat()).size;
    // A cursor past the end: the file was cut short by something else; nothing in it is left to read.
    if (start > size) return { records: 0, bytes: 0, size, dropped: 0, damaged: [] };
    const buf = await readExact(handle, file, start, size - start);
    const scan: SegmentScan = { records: 0, bytes: 0, size, dropped: 0, damaged: [] };
    let at = 0;
    while (at < buf.length) {
      const check = checkFrame(buf, at);
      if (check.ok) {
        checkKey(check.payload, file, start + at, keys);
        scan.records += 1;
        scan.bytes += check.end - at;
        at = check.end;
        continue;
      }
      const next = findNextFrame(buf, at + 1);
      if (next < 0 && isLast && isTornTail(check, buf.subarray(at))) {
        const tail = buf.subarray(at);
        const keptAs = tail.some((byte) => byte !== 0) ? await keepAside(file, start + at, tail) : undefined;
        await truncate(handle, file, start + at);
        return { ...scan, size: start + at, dropped: tail.length, ...(keptAs === undefined ? {} : { keptAs }) };
      }
      const end = next < 0 ? buf.length : next;
      const quarantinedAs = await quarantineBytes(dir, file, start + at, buf.subarray(at, end));
      scan.damaged.push({ offset: start + at, end: start + end, reason: check.reason, quarantinedAs });
      at = end;
    }
    return scan;
  } finally {
    await handle.close();
  }
}

/** Refuse records sealed under another key, or sealed when no key is configured: the spool cannot be read at all. */
function checkKey(payload: Buffer, file: string, offset: number, keys: ScanKeys): void {
  if (!isSealed(payload)) return;
  const found = sealedKeyId(payload) ?? '?';
  if (keys.cipher === undefined) {
    throw new SpoolCorruptError(
      `spool ${keys.spool} holds encrypted records (${file} at byte ${offset}, key id ${found}) but no encryption key is configured; ` +
        `configure the spool's encryption key (or its environment variable) it was written with`,
      { spool: keys.spool, file, offset },
    );
  }
  if (found !== keys.cipher.keyId) throw new SpoolKeyMismatchError(`spool ${keys.spool} (${file} at byte ${offset})`, found, keys.cipher.keyId, { spool: keys.spool, file, offset });
}

/** Copy the bytes about to be cut off `file` at `offset` to `<file>.torn-<offset>` (0600, fsync'd with its directory). */
async function keepAside(file: string, offset: number, bytes: Buffer): Promise<string> {
  const aside = `${file}.torn-${offset}`;
  try {
    await writeFileAtomic(dirname(file), aside, bytes);
  } catch (cause) {
    throw ioError('keep the unacknowledged tail of the last segment in', aside, cause);
  }
  return aside;
}

async function truncate(handle: FileHandle, file: string, size: number): Promise<void> {
  try {
    await handle.truncate(size);
    await handle.sync();
  } catch (cause) {
    throw ioError('cut the unacknowledged tail off', file, cause);
  }
}

/** Read exactly `length` bytes at `position`, into `into` when it is big enough (the bytes returned are a view of it), else into a new buffer. */
async function readExact(handle: FileHandle, file: string, position: number, length: number, into?: Buffer): Promise<Buffer> {
  const buf = into !== undefined && into.length >= length ? into.subarray(0, length) : Buffer.allocUnsafe(length);
  let done = 0;
  try {
    while (done < length) {
      const { bytesRead } = await handle.read(buf, done, length - done, position + done);
      if (bytesRead === 0) break;
      done += bytesRead;
    }
  } catch (cause) {
    throw ioError('read the spool segment', file, cause);
  }
  if (done < length) {
    throw new SpoolCorruptError(corruptMessage(file, position + done, `the file ended ${length - done} bytes early (was it truncated by another process?)`), {
      file,
      offset: position + done,
    });
  }
  return buf;
}

/** One frame read back for a lease. */
export interface RawFrame {
  readonly offset: number;
  readonly end: number;
  /** A private copy of the payload. */
  readonly payload: Buffer;
}

/** Frames read for a lease, and where reading hit a bad frame, if it did. */
export interface FrameRead {
  readonly frames: RawFrame[];
  readonly damageAt?: number;
}

/** A buffer for {@link readFrames} to read into, one per reader, so reading does not allocate a chunk per read. */
export function newReadChunk(): Buffer {
  return Buffer.allocUnsafeSlow(READ_CHUNK_BYTES);
}

/**
 * Read up to `max` whole frames of `file` between `from` and `to` (the
 * durable end, or the start of known damage). Every frame's CRC is checked
 * again; at the first bad frame reading stops and reports its offset.
 * Reads go through `chunk` (from {@link newReadChunk}) when given; payloads
 * are copied out of it, so it is free again once this resolves.
 */
export async function readFrames(handle: FileHandle, file: string, from: number, to: number, max: number, chunk?: Buffer): Promise<FrameRead> {
  const frames: RawFrame[] = [];
  let pos = from;
  while (pos < to && frames.length < max) {
    let buf = await readExact(handle, file, pos, Math.min(to - pos, READ_CHUNK_BYTES), chunk);
    const claimed = buf.length >= FRAME_HEADER_BYTES ? FRAME_HEADER_BYTES + buf.readUInt32BE(0) : 0;
    if (claimed > buf.length && pos + claimed <= to) {
      // One frame larger than a read chunk: read exactly that frame.
      buf = await readExact(handle, file, pos, claimed);
    }
    const cut = pos + buf.length < to;
    let at = 0;
    while (at < buf.length && frames.length < max) {
      const check = checkFrame(buf, at);
      if (!check.ok && cut && at > 0 && (check.kind === 'short-header' || check.kind === 'short-payload')) break;
      if (!check.ok) return { frames, damageAt: pos + at };
      frames.push({ offset: pos + at, end: pos + check.end, payload: Buffer.from(check.payload) });
      at = check.end;
    }
    pos += at;
  }
  return { frames };
}

/** Read `file` from `from` to `to` and find where the damage at `from` ends: the next valid frame, or `to`. */
export async function measureDamage(handle: FileHandle, file: string, from: number, to: number): Promise<{ end: number; bytes: Buffer; reason: string }> {
  const buf = await readExact(handle, file, from, to - from);
  const check = checkFrame(buf, 0);
  const next = findNextFrame(buf, 1);
  const end = next < 0 ? buf.length : next;
  return { end: from + end, bytes: buf.subarray(0, end), reason: check.ok ? 'the frame changed while it was read' : check.reason };
}

/**
 * Create segment `seq` (O_EXCL, append-only, mode 0600) and fsync the
 * directory. If the fsync fails, the new file is removed again (best effort:
 * an empty segment left behind is harmless, and the writer never reuses `seq`).
 */
export async function createSegment(dir: string, seq: number): Promise<FileHandle> {
  const file = join(dir, segmentName(seq));
  let handle: FileHandle;
  try {
    handle = await open(file, 'ax', 0o600);
  } catch (cause) {
    throw ioError('create the spool segment', file, cause);
  }
  try {
    await diskIo.fsyncDirAfterCreate(dir);
  } catch (cause) {
    await handle.close().catch(() => undefined);
    await unlink(file).catch(() => undefined);
    throw ioError('fsync the spool directory after creating', file, cause);
  }
  return handle;
}
