/**
 * Reads never-leased records back out of the segments, in append order,
 * from a read position that only moves forward (a read that fails puts it
 * back where that read began).
 */
import type { FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { decodeEnvelope } from '../../src/envelope/codec.js';
import type { Envelope } from '../../src/envelope/types.js';
import { SpoolCorruptError } from '../../src/errors/index.js';
import type { SpoolPosition } from './cursor.js';
import { ioError } from './fs-util.js';
import { diskIo } from './io-seam.js';
import type { BookEntry } from './lease-book.js';
import type { SegmentInfo } from './recovery.js';
import { corruptMessage, readFrames, segmentName } from './segment.js';

/** Sequential reader over the spool's live segments (see the module comment). */
export class SegmentReader {
  private reader: { seq: number; handle: FileHandle } | undefined;

  /**
   * @param segments the spool's live segment table, shared and kept current by the spool
   * @param position where the first never-leased record starts
   */
  constructor(
    private readonly dir: string,
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
    const file = join(this.dir, segmentName(segment.seq));
    const handle = await this.handleFor(segment.seq, file);
    const frames = await readFrames(handle, file, this.position.offset, segment.size, max);
    const entries = frames.map((frame): BookEntry => {
      const envelope = decodeFrame(frame.payload, file, frame.offset);
      return { seq: segment.seq, offset: frame.offset, end: frame.end, bytes: frame.end - frame.offset, envelope, state: 'leased' };
    });
    const last = entries.at(-1);
    if (last !== undefined) this.position = { seq: segment.seq, offset: last.end };
    return entries;
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

function decodeFrame(payload: Buffer, file: string, offset: number): Envelope {
  try {
    return decodeEnvelope(payload);
  } catch (cause) {
    const reason = cause instanceof Error ? cause.message : String(cause);
    throw new SpoolCorruptError(corruptMessage(file, offset, `the record does not decode (${reason})`), { cause });
  }
}
