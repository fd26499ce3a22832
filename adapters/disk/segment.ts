/**
 * Segment files: naming, listing, the recovery scan on open, and reading
 * frames back for a lease.
 */
import { open, readdir, unlink, type FileHandle } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { SpoolCorruptError } from '../../src/errors/index.js';
import { FRAME_HEADER_BYTES, checkFrame, isUnacknowledgedTail } from './framing.js';
import { ioError, writeFileAtomic } from './fs-util.js';
import { diskIo } from './io-seam.js';

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
  /** File size after any unacknowledged tail was cut off. */
  size: number;
  /** Bytes of unacknowledged tail cut off (only ever in the last segment). */
  dropped: number;
  /** Where the cut bytes were kept, unless they were all zeros. */
  keptAs?: string;
}

/** Message for a segment that cannot be read back. */
export function corruptMessage(file: string, offset: number, reason: string): string {
  return (
    `spool segment ${file} is corrupt at byte ${offset}: ${reason}. Records before that byte are intact. ` +
    `Move the file out of the spool directory to inspect it (the rest of the spool can then be opened, ` +
    `but the records in the moved file are not replayed), or restore it from a backup`
  );
}

/**
 * Check every frame of `file` from `start`. In the last segment, everything
 * from the first bad frame on is cut off (see {@link isUnacknowledgedTail}):
 * copied to `<file>.torn-<offset>` first (unless all zeros), then ftruncate +
 * fsync. Any other bad frame throws {@link SpoolCorruptError} naming the file
 * and byte offset.
 */
export async function scanSegment(file: string, start: number, isLast: boolean): Promise<SegmentScan> {
  let handle: FileHandle;
  try {
    handle = await open(file, isLast ? 'r+' : 'r');
  } catch (cause) {
    throw ioError('open the spool segment', file, cause);
  }
  try {
    const size = (await handle.stat()).size;
    if (start > size) {
      throw new SpoolCorruptError(corruptMessage(file, size, `the spool cursor points at byte ${start}, past the end of the file`));
    }
    const buf = await readExact(handle, file, start, size - start);
    let at = 0;
    let records = 0;
    while (at < buf.length) {
      const check = checkFrame(buf, at);
      if (check.ok) {
        at = check.end;
        records += 1;
        continue;
      }
      if (!isLast || !isUnacknowledgedTail(check)) throw new SpoolCorruptError(corruptMessage(file, start + at, check.reason));
      const tail = buf.subarray(at);
      const keptAs = tail.some((byte) => byte !== 0) ? await keepAside(file, start + at, tail) : undefined;
      await truncate(handle, file, start + at);
      return { records, bytes: at, size: start + at, dropped: tail.length, ...(keptAs === undefined ? {} : { keptAs }) };
    }
    return { records, bytes: at, size, dropped: 0 };
  } finally {
    await handle.close();
  }
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

async function readExact(handle: FileHandle, file: string, position: number, length: number): Promise<Buffer> {
  const buf = Buffer.allocUnsafe(length);
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
    throw new SpoolCorruptError(corruptMessage(file, position + done, `the file ended ${length - done} bytes early (was it truncated by another process?)`));
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

/**
 * Read up to `max` whole frames of `file` between `from` and `to` (the
 * durable end). Every frame's CRC is checked again.
 */
export async function readFrames(handle: FileHandle, file: string, from: number, to: number, max: number): Promise<RawFrame[]> {
  const out: RawFrame[] = [];
  let pos = from;
  while (pos < to && out.length < max) {
    let buf = await readExact(handle, file, pos, Math.min(to - pos, READ_CHUNK_BYTES));
    if (buf.length >= FRAME_HEADER_BYTES && FRAME_HEADER_BYTES + buf.readUInt32BE(0) > buf.length) {
      // One frame larger than a read chunk: read exactly that frame.
      buf = await readExact(handle, file, pos, Math.min(to - pos, FRAME_HEADER_BYTES + buf.readUInt32BE(0)));
    }
    const cut = pos + buf.length < to;
    let at = 0;
    while (at < buf.length && out.length < max) {
      const check = checkFrame(buf, at);
      if (!check.ok && cut && at > 0 && (check.kind === 'short-header' || check.kind === 'short-payload')) break;
      if (!check.ok) throw new SpoolCorruptError(corruptMessage(file, pos + at, check.reason));
      out.push({ offset: pos + at, end: pos + check.end, payload: Buffer.from(check.payload) });
      at = check.end;
    }
    pos += at;
  }
  return out;
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
