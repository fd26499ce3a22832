/**
 * Reads never-leased records back out of the segments, in append order,
 * from a read position that only moves forward (a read that fails puts it
 * back where that read began). Damage met while reading (a frame that fails
 * its CRC, does not decode, or fails decryption) is quarantined and skipped,
 * exactly as on open: one bad record never stops the records after it.
 * Several readers may share one segment table (the lease path's and a
 * survey's): a range is recorded on its segment and reported by whichever
 * reader finds it first, once; the others skip it silently.
 */
import type { FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import type { SpoolCipher } from '../../src/contracts/spool.js';
import { isSealed } from '../../src/crypto/spool-cipher.js';
import { decodeEnvelope } from '../../src/envelope/codec.js';
import type { Envelope } from '../../src/envelope/types.js';
import type { SpoolPosition } from './cursor.js';
import { ioError } from './fs-util.js';
import { diskIo } from './io-seam.js';
import type { BookEntry } from './lease-book.js';
import { nextDamage, quarantineBytes, skipDamage, type DamagedRange } from './quarantine.js';
import type { SegmentInfo } from './recovery.js';
import { measureDamage, newReadChunk, readFrames, segmentName } from './segment.js';

/** What the reader needs besides the segment table. */
export interface SegmentReaderOptions {
  readonly dir: string;
  readonly cipher?: SpoolCipher;
  /**
   * Called once per damaged range this reader is first to find, after it was
   * quarantined and recorded on its segment (a range already recorded there,
   * by this or another reader, is skipped without a call).
   */
  readonly onDamage: (seq: number, file: string, range: DamagedRange) => void;
}

/** Sequential reader over the spool's live segments (see the module comment). */
export class SegmentReader {
  private reader: { seq: number; handle: FileHandle } | undefined;
  /** Reused by every read of this reader (reads of one reader never overlap: the spool chains its leases). */
  private chunk: Buffer | undefined;

  /**
   * @param segments the spool's live segment table, shared and kept current by the spool
   * @param position where the first never-leased record starts
   */
  constructor(
    private readonly options: SegmentReaderOptions,
    private readonly segments: readonly SegmentInfo[],
    private position: SpoolPosition,
  ) {}

  /**
   * Up to `max` never-leased durable records, oldest first, as leased book
   * entries. All or nothing: when it throws (a segment fails to open or
   * read), the read position is put back where it was, so records already
   * read in this call are read again next time instead of being skipped.
   * The caller books whatever this returns.
   */
  async read(max: number): Promise<BookEntry[]> {
    const start = this.position;
    try {
      return await this.readFrom(max);
    } catch (error) {
      this.position = start;
      throw error;
    }
  }

  /** Where the next read starts: past every record and damaged range read so far. */
  get at(): SpoolPosition {
    return this.position;
  }

  /** Close the open file if it belongs to segment `seq` (about to be deleted). */
  async forget(seq: number): Promise<void> {
    if (this.reader?.seq !== seq) return;
    const { handle } = this.reader;
    this.reader = undefined;
    await handle.close();
  }

  /** Close the open file, if any. */
  async close(): Promise<void> {
    if (this.reader !== undefined) await this.forget(this.reader.seq);
  }

  private async readFrom(max: number): Promise<BookEntry[]> {
    const out: BookEntry[] = [];
    while (out.length < max) {
      const index = this.segments.findIndex((s) => s.seq >= this.position.seq);
      const segment = this.segments[index];
      if (segment === undefined) break;
      if (segment.seq !== this.position.seq) this.position = { seq: segment.seq, offset: 0 };
      const offset = skipDamage(segment.damaged, this.position.offset);
      if (offset !== this.position.offset) this.position = { seq: segment.seq, offset };
      if (this.position.offset >= segment.size) {
        const next = this.segments[index + 1];
        if (next === undefined) break;
        this.position = { seq: next.seq, offset: 0 };
        continue;
      }
      out.push(...(await this.readSegment(segment, max - out.length)));
    }
    return out;
  }

  private async readSegment(segment: SegmentInfo, max: number): Promise<BookEntry[]> {
    const file = join(this.options.dir, segmentName(segment.seq));
    const handle = await this.handleFor(segment.seq, file);
    const from = this.position.offset;
    const to = nextDamage(segment.damaged, from, segment.size);
    const { frames, damageAt } = await readFrames(handle, file, from, to, max, (this.chunk ??= newReadChunk()));
    const entries: BookEntry[] = [];
    for (const frame of frames) {
      const envelope = this.decode(frame.payload);
      if (envelope === undefined) {
        await this.quarantine(segment, handle, file, frame.offset, frame.end, 'the record does not decode');
        break;
      }
      entries.push({ seq: segment.seq, offset: frame.offset, end: frame.end, bytes: frame.end - frame.offset, envelope, state: 'leased' });
      this.position = { seq: segment.seq, offset: frame.end };
    }
    if (entries.length === frames.length && damageAt !== undefined) {
      const { end, reason } = await measureDamage(handle, file, damageAt, to);
      await this.quarantine(segment, handle, file, damageAt, end, reason);
    }
    return entries;
  }

  /** The envelope in a frame's payload, or undefined when it does not decode or decrypt (damage). */
  private decode(payload: Buffer): Envelope | undefined {
    try {
      if (!isSealed(payload)) return decodeEnvelope(payload);
      if (this.options.cipher === undefined) return undefined;
      return decodeEnvelope(this.options.cipher.open(payload, 'a spool record'));
    } catch {
      return undefined;
    }
  }

  private async quarantine(segment: SegmentInfo, handle: FileHandle, file: string, offset: number, end: number, reason: string): Promise<void> {
    const { bytes } = await measureDamage(handle, file, offset, end);
    const quarantinedAs = await quarantineBytes(this.options.dir, file, offset, bytes);
    // Another reader may have found the same range while this one was copying it out: report it once.
    const known = segment.damaged?.find((r) => r.offset === offset);
    if (known !== undefined) {
      this.position = { seq: segment.seq, offset: known.end };
      return;
    }
    const range: DamagedRange = { offset, end, reason, quarantinedAs };
    (segment.damaged ??= []).push(range);
    this.position = { seq: segment.seq, offset: end };
    this.options.onDamage(segment.seq, file, range);
  }

  private async handleFor(seq: number, file: string): Promise<FileHandle> {
    if (this.reader?.seq === seq) return this.reader.handle;
    await this.close();
    try {
      this.reader = { seq, handle: await diskIo.openSegmentForRead(file) };
    } catch (cause) {
      throw ioError('open the spool segment', file, cause);
    }
    return this.reader.handle;
  }
}
