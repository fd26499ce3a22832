/**
 * The spool's only writer, with group commit: batches that arrive while a
 * write + fdatasync is in flight are written together by the next single
 * write + fdatasync. Segments rotate at `maxSegmentBytes`; a new segment is
 * created with O_EXCL and the directory is fsync'd before data goes into it.
 *
 * Invariants
 * - A batch's promise resolves only after the fdatasync covering its bytes
 *   has returned successfully (`diskIo.syncSegment`), never before.
 * - A failed write is cut back off (ftruncate + fdatasync) and the segment
 *   goes on taking appends (ENOSPC clears when space comes back). If the cut
 *   fails, or if fdatasync itself fails, the segment is retired: it takes no
 *   more appends in this process (a retried fsync can report success for
 *   pages the kernel already dropped), and the next batch opens a new one.
 *   Its durable size stays where the last successful fdatasync left it.
 */
import type { FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { SpoolCorruptError, SpoolFullError, type SpillwayError } from '../../src/errors/index.js';
import type { EncodedBatch } from './framing.js';
import { describeFsError, errnoCode } from './fs-util.js';
import { diskIo } from './io-seam.js';
import { createSegment, segmentName } from './segment.js';

/** Callbacks through which the writer reports progress to the spool. */
export interface SegmentWriterHooks {
  /** Segment `seq` now exists (empty) and is the one being appended to. */
  onSegmentCreated(seq: number): void;
  /** `bytes` bytes holding `records` records are written and fdatasync'd at the end of segment `seq`. */
  onDurable(seq: number, bytes: number, records: number): void;
  /** One fdatasync of a segment completed. */
  onSync(): void;
}

interface Queued {
  readonly batch: EncodedBatch;
  resolve(): void;
  reject(error: unknown): void;
}

interface Active {
  readonly seq: number;
  readonly file: string;
  readonly handle: FileHandle;
  size: number;
}

/** True for the errno codes that mean "no room on the filesystem". */
export function isNoSpace(cause: unknown): boolean {
  if (cause instanceof SpoolFullError) return cause.reason === 'disk-full';
  const codes = [errnoCode(cause), errnoCode((cause as { cause?: unknown } | undefined)?.cause)];
  return codes.includes('ENOSPC') || codes.includes('EDQUOT');
}

/** Appends encoded batches to segment files; see the module comment. */
export class SegmentWriter {
  private queue: Queued[] = [];
  private busy = false;
  private active: Active | undefined;
  private idleWaiters: Array<() => void> = [];

  constructor(
    private readonly dir: string,
    private nextSeq: number,
    private readonly maxSegmentBytes: number,
    private readonly hooks: SegmentWriterHooks,
    /** The spool's id, for errors. */
    private readonly spoolId?: string,
  ) {}

  /** The segment being appended to, if one is open. */
  get activeSeq(): number | undefined {
    return this.active?.seq;
  }

  /** Resolves once `batch` is written and fdatasync'd. */
  write(batch: EncodedBatch): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.queue.push({ batch, resolve, reject });
      if (!this.busy) this.kick();
    });
  }

  /** Wait for every queued batch, then close the active segment. */
  async close(): Promise<void> {
    if (this.busy || this.queue.length > 0) await new Promise<void>((resolve) => this.idleWaiters.push(resolve));
    const active = this.active;
    this.active = undefined;
    await active?.handle.close();
  }

  private kick(): void {
    if (this.queue.length === 0) {
      for (const wake of this.idleWaiters.splice(0)) wake();
      return;
    }
    this.busy = true;
    const group = this.queue;
    this.queue = [];
    void this.flush(group).then(() => {
      this.busy = false;
      this.kick();
    });
  }

  private async flush(group: readonly Queued[]): Promise<void> {
    let from = 0;
    while (from < group.length) {
      let to = from;
      try {
        const bytes = (group[from] as Queued).batch.buffer.length;
        const active = this.fits(bytes) ?? (await this.rotate());
        to = this.chunkEnd(group, from, active.size);
        await this.writeChunk(active, group, from, to);
      } catch (error) {
        for (let i = from; i < group.length; i += 1) (group[i] as Queued).reject(error);
        return;
      }
      for (let i = from; i < to; i += 1) (group[i] as Queued).resolve();
      from = to;
    }
  }

  /** The active segment, unless there is none or `bytes` would push a non-empty one past the limit. */
  private fits(bytes: number): Active | undefined {
    const current = this.active;
    return current !== undefined && (current.size === 0 || current.size + bytes <= this.maxSegmentBytes) ? current : undefined;
  }

  /** Open the next segment and make it the active one. */
  private async rotate(): Promise<Active> {
    const current = this.active;
    // Taken before the attempt: a failed create may leave the file behind, and retrying its number would hit EEXIST forever.
    const seq = this.nextSeq;
    this.nextSeq += 1;
    let handle: FileHandle;
    try {
      handle = await createSegment(this.dir, seq);
    } catch (error) {
      if (isNoSpace(error)) throw this.fullError(error);
      throw error;
    }
    this.active = { seq, file: join(this.dir, segmentName(seq)), handle, size: 0 };
    this.hooks.onSegmentCreated(seq);
    await current?.handle.close().catch(() => undefined);
    return this.active;
  }

  /** End (exclusive) of the run of batches from `from` that fits in the segment. */
  private chunkEnd(group: readonly Queued[], from: number, startSize: number): number {
    let size = startSize;
    let i = from;
    for (; i < group.length; i += 1) {
      const bytes = (group[i] as Queued).batch.buffer.length;
      if (i > from && size + bytes > this.maxSegmentBytes) break;
      size += bytes;
    }
    return i;
  }

  private async writeChunk(active: Active, group: readonly Queued[], from: number, to: number): Promise<void> {
    const start = active.size;
    const buffers: Buffer[] = new Array<Buffer>(to - from);
    let bytes = 0;
    let records = 0;
    for (let i = from; i < to; i += 1) {
      const batch = (group[i] as Queued).batch;
      buffers[i - from] = batch.buffer;
      bytes += batch.buffer.length;
      records += batch.records;
    }
    try {
      await writeAll(active, buffers, bytes);
    } catch (cause) {
      throw await this.undoWrite(active, start, cause);
    }
    try {
      await diskIo.syncSegment(active.handle, active.file);
    } catch (cause) {
      throw this.retireAfterSyncFailure(active, start, cause);
    }
    this.hooks.onSync();
    active.size += bytes;
    this.hooks.onDurable(active.seq, bytes, records);
  }

  /** Cut a failed write back off; if even that fails, retire the segment. */
  private async undoWrite(active: Active, start: number, cause: unknown): Promise<SpillwayError> {
    try {
      await active.handle.truncate(start);
      await diskIo.syncSegment(active.handle, active.file);
    } catch {
      this.retire(active, start);
      return new SpoolCorruptError(
        `could not write to spool segment ${active.file} (${describeFsError(cause)}) nor cut the failed write back off; ` +
          `the batch was not stored and that segment takes no more appends (the next batch goes to a new one). Check the disk (dmesg, df)`,
        { cause, file: active.file, offset: start },
      );
    }
    if (isNoSpace(cause)) return this.fullError(cause);
    return new SpoolCorruptError(`could not write to spool segment ${active.file} (${describeFsError(cause)}); the batch was not stored. Check the disk (dmesg, df)`, {
      cause,
      file: active.file,
      offset: start,
    });
  }

  /** fdatasync failed: the pages may be gone even if a retry says otherwise, so the segment takes no more appends. */
  private retireAfterSyncFailure(active: Active, start: number, cause: unknown): SpillwayError {
    this.retire(active, start, true);
    const prefix = `fdatasync of spool segment ${active.file} failed (${describeFsError(cause)})`;
    if (isNoSpace(cause)) return this.fullError(cause, prefix);
    return new SpoolCorruptError(
      `${prefix}; the batch was not stored and that segment takes no more appends (the next batch goes to a new one). ` +
        `Records acknowledged before are not affected. Check the disk (dmesg, df)`,
      { cause, file: active.file, offset: start },
    );
  }

  /** Stop appending to `active`; best effort, cut the unsynced bytes off first (not relied upon: reads stop at `start`). */
  private retire(active: Active, start: number, cut = false): void {
    active.size = start;
    if (this.active === active) this.active = undefined;
    const { handle } = active;
    void (cut ? handle.truncate(start) : Promise.resolve())
      .catch(() => undefined)
      .finally(() => handle.close().catch(() => undefined));
  }

  private fullError(cause: unknown, prefix?: string): SpoolFullError {
    const code = [errnoCode(cause), errnoCode((cause as { cause?: unknown }).cause)].find((c) => c === 'ENOSPC' || c === 'EDQUOT') ?? 'ENOSPC';
    return new SpoolFullError(
      `${prefix === undefined ? '' : `${prefix}: `}the filesystem holding spool ${this.dir} is full (${code}); the batch was not stored and ` +
        `nothing already stored was touched. Free space on it (df ${this.dir}) or point spool.dir at a larger disk; ` +
        `appends succeed again as soon as there is room, without a restart`,
      { cause, reason: 'disk-full', ...(this.spoolId === undefined ? {} : { spool: this.spoolId }) },
    );
  }
}

async function writeAll(active: Active, buffers: Buffer[], bytes: number): Promise<void> {
  let rest = buffers;
  while (rest.length > 0) {
    let { bytesWritten } = await diskIo.writeSegment(active.handle, rest, active.file);
    if (bytesWritten === bytes) return;
    bytes -= bytesWritten;
    if (bytesWritten <= 0) throw new Error('a write to the segment wrote nothing');
    let i = 0;
    while (i < rest.length && bytesWritten >= (rest[i] as Buffer).length) {
      bytesWritten -= (rest[i] as Buffer).length;
      i += 1;
    }
    if (i === rest.length) return;
    const next = rest.slice(i);
    next[0] = (next[0] as Buffer).subarray(bytesWritten);
    rest = next;
  }
}
