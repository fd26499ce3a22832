/**
 * The spool's only writer, with group commit: batches that arrive while a
 * write + fdatasync is in flight are written together by the next single
 * write + fdatasync. Segments rotate at `maxSegmentBytes`; a new segment is
 * created with O_EXCL and the directory is fsync'd before data goes into it.
 */
import type { FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { SpoolCorruptError, SpoolFullError, type SpillwayError } from '../../src/errors/index.js';
import type { EncodedBatch } from './framing.js';
import { describeFsError, errnoCode } from './fs-util.js';
import { createSegment, segmentName } from './segment.js';

/** Callbacks through which the writer reports progress to the spool. */
export interface SegmentWriterHooks {
  /** Segment `seq` now exists (empty) and is the one being appended to. */
  onSegmentCreated(seq: number): void;
  /** These batches are written and fdatasync'd at the end of segment `seq`, in order. */
  onDurable(seq: number, batches: readonly EncodedBatch[]): void;
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
  readonly handle: FileHandle;
  size: number;
}

/** Appends encoded batches to segment files; see the module comment. */
export class SegmentWriter {
  private queue: Queued[] = [];
  private busy = false;
  private active: Active | undefined;
  private failure: SpillwayError | undefined;
  private idleWaiters: Array<() => void> = [];

  constructor(
    private readonly dir: string,
    private nextSeq: number,
    private readonly maxSegmentBytes: number,
    private readonly hooks: SegmentWriterHooks,
  ) {}

  /** The segment being appended to, if one was created since open. */
  get activeSeq(): number | undefined {
    return this.active?.seq;
  }

  /** Resolves once `batch` is written and fdatasync'd. */
  write(batch: EncodedBatch): Promise<void> {
    if (this.failure !== undefined) return Promise.reject(this.failure);
    return new Promise<void>((resolve, reject) => {
      this.queue.push({ batch, resolve, reject });
      this.kick();
    });
  }

  /** Wait for every queued batch, then close the active segment. */
  async close(): Promise<void> {
    if (this.busy || this.queue.length > 0) await new Promise<void>((resolve) => this.idleWaiters.push(resolve));
    await this.active?.handle.close();
    this.active = undefined;
  }

  private kick(): void {
    if (this.busy) return;
    if (this.queue.length === 0) {
      for (const wake of this.idleWaiters.splice(0)) wake();
      return;
    }
    this.busy = true;
    const group = this.queue;
    this.queue = [];
    void this.flush(group).finally(() => {
      this.busy = false;
      this.kick();
    });
  }

  private async flush(group: readonly Queued[]): Promise<void> {
    let from = 0;
    while (from < group.length) {
      let chunk: Queued[] = [];
      try {
        const first = group[from] as Queued;
        const active = await this.roomFor(first.batch.buffer.length);
        chunk = this.takeChunk(group, from, active.size);
        await this.writeChunk(active, chunk);
      } catch (error) {
        const reason = this.failure ?? error;
        for (const item of group.slice(from)) item.reject(reason);
        return;
      }
      for (const item of chunk) item.resolve();
      from += chunk.length;
    }
  }

  /** The active segment, rotated first when `bytes` would push a non-empty one past the limit. */
  private async roomFor(bytes: number): Promise<Active> {
    const current = this.active;
    if (current !== undefined && (current.size === 0 || current.size + bytes <= this.maxSegmentBytes)) return current;
    // Taken before the attempt: a failed create may leave the file behind, and retrying its number would hit EEXIST forever.
    const seq = this.nextSeq;
    this.nextSeq += 1;
    const handle = await createSegment(this.dir, seq);
    this.active = { seq, handle, size: 0 };
    this.hooks.onSegmentCreated(seq);
    await current?.handle.close();
    return this.active;
  }

  private takeChunk(group: readonly Queued[], from: number, startSize: number): Queued[] {
    const chunk: Queued[] = [];
    let size = startSize;
    for (let i = from; i < group.length; i += 1) {
      const item = group[i] as Queued;
      const bytes = item.batch.buffer.length;
      if (chunk.length > 0 && size + bytes > this.maxSegmentBytes) break;
      chunk.push(item);
      size += bytes;
    }
    return chunk;
  }

  private async writeChunk(active: Active, chunk: readonly Queued[]): Promise<void> {
    const start = active.size;
    const buffers = chunk.map((item) => item.batch.buffer);
    try {
      await writeAll(active.handle, buffers);
      await active.handle.datasync();
    } catch (cause) {
      throw await this.undo(active, start, cause);
    }
    this.hooks.onSync();
    active.size += buffers.reduce((sum, b) => sum + b.length, 0);
    this.hooks.onDurable(
      active.seq,
      chunk.map((item) => item.batch),
    );
  }

  /** Cut a failed write back off; if even that fails, refuse all further writes. */
  private async undo(active: Active, start: number, cause: unknown): Promise<SpillwayError> {
    const file = join(this.dir, segmentName(active.seq));
    try {
      await active.handle.truncate(start);
      await active.handle.datasync();
    } catch {
      this.failure = new SpoolCorruptError(
        `could not write to spool segment ${file} (${describeFsError(cause)}) nor cut the failed write back off; ` +
          `the spool refuses further writes. Check the disk (dmesg, df), then restart to reopen the spool`,
        { cause },
      );
      return this.failure;
    }
    const code = errnoCode(cause);
    if (code === 'ENOSPC' || code === 'EDQUOT') {
      return new SpoolFullError(`the disk holding the spool ${this.dir} is full (${code}); the batch was not stored. Free space on it or move spool.dir to a larger disk`, { cause });
    }
    return new SpoolCorruptError(`could not write to spool segment ${file} (${describeFsError(cause)}); the batch was not stored. Check the disk (dmesg, df)`, { cause });
  }
}

async function writeAll(handle: FileHandle, buffers: readonly Buffer[]): Promise<void> {
  let rest = buffers.filter((b) => b.length > 0);
  while (rest.length > 0) {
    let { bytesWritten } = await handle.writev(rest);
    const next: Buffer[] = [];
    for (const b of rest) {
      if (bytesWritten >= b.length) bytesWritten -= b.length;
      else {
        next.push(bytesWritten > 0 ? b.subarray(bytesWritten) : b);
        bytesWritten = 0;
      }
    }
    rest = next;
  }
}
