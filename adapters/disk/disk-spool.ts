/**
 * The disk spool: the last, always-available tier.
 *
 * Invariants
 * - `append` resolves only after its frames are written to a segment AND that
 *   segment is fdatasync'd; a new segment's directory entry is fsync'd before
 *   any data goes into it. One fdatasync serves every append that queued up
 *   while the previous one was in flight (group commit).
 * - Segments are append-only; bytes are never rewritten. Each record is framed
 *   with its length and CRC-32.
 * - The cursor file holds the durable "acknowledged up to" position. It moves
 *   only over a contiguous prefix of acknowledged records and is replaced
 *   atomically (tmp + fsync + rename + directory fsync) before `ack` resolves.
 * - The read position moves only over records that reach the lease book: a
 *   lease that fails hands out nothing and leaves the position where it was.
 * - A crash can leave behind, in the last segment only, an append that never
 *   resolved: a torn tail, i.e. an incomplete final frame (or zeros) with no
 *   valid frame after it. On open it is copied to `<segment>.torn-<offset>`
 *   (0600; skipped if all zeros), cut off, and reported in
 *   `recovery.truncated`. Bad bytes anywhere else (a bad CRC, an impossible
 *   length, a frame that does not decode, anything followed by a valid
 *   frame) are damage, never a torn tail: copied to `quarantine/`, reported
 *   by an event and a log line naming file and offset, and skipped; reading
 *   goes on at the next valid frame. Damage never stops the spool from
 *   opening; only a spool it cannot read at all (permissions, records sealed
 *   under another key) does.
 *   A crash can also leave records acknowledged out of order (handed out
 *   again after restart: delivery is at least once) and segments the cursor
 *   has moved past (deleted on open).
 * - Full is explicit: an append that does not fit under `maxBytes`, or meets
 *   ENOSPC, is rejected with SpoolFullError (`whenFull: 'reject'`) or waits
 *   for room up to `blockTimeoutMs` (`'block'`). Nothing is dropped or
 *   evicted, and a failed write is cut back off, so nothing stored is touched.
 * - Readers acknowledge, then the spool deletes: a segment file is removed
 *   only after the cursor durably moved past its end, and never while it is
 *   the one being appended to. Nothing else deletes spool files; `.torn-`
 *   copies are left for the operator.
 * - One process per directory, enforced by the `LOCK` file (one holding this
 *   process's pid is stale unless this process has the spool open).
 */
import { resolve } from 'node:path';
import { pino, type Logger } from 'pino';
import type { SpoolEvent } from '../../src/contracts/descriptor.js';
import type { Lease, SpoolCipher } from '../../src/contracts/spool.js';
import type { Envelope } from '../../src/envelope/types.js';
import { ClosedError, ValidationError } from '../../src/errors/index.js';
import { createCoalescer, type Coalescer } from './coalescer.js';
import type { SpoolPosition } from './cursor.js';
import { encodeFrames } from './framing.js';
import { ensurePrivateDir } from './fs-util.js';
import { LeaseBook, type BookEntry } from './lease-book.js';
import { RecordTally } from './record-tally.js';
import { acquireDirLock, type DirLock } from './lock.js';
import { recoverSpool, type RecoveredState, type SegmentInfo, type SpoolRecoveryInfo } from './recovery.js';
import type { DamagedRange } from './quarantine.js';
import { pruneSegments, reportDamage, skipAcknowledged, unackedBytes } from './spool-position.js';
import { ensureReserve, writeCursorWithReserve } from './reserve.js';
import { Admission } from './admission.js';
import { SegmentReader } from './segment-reader.js';
import { SegmentWriter } from './segment-writer.js';
import {
  DEFAULT_BLOCK_TIMEOUT_MS,
  DEFAULT_SEGMENT_BYTES,
  DEFAULT_SPOOL_MAX_BYTES,
  checkSpoolOptions,
  type DiskSpool,
  type DiskSpoolOptions,
  type DiskSpoolStats,
} from './spool-options.js';

export type { DiskSpool, DiskSpoolOptions, DiskSpoolStats } from './spool-options.js';
export type { SpoolRecoveryInfo, TruncatedTail } from './recovery.js';
export { DEFAULT_BLOCK_TIMEOUT_MS, DEFAULT_SEGMENT_BYTES, DEFAULT_SPOOL_MAX_BYTES } from './spool-options.js';

const EMPTY_LEASE: Lease = Object.freeze({ envelopes: Object.freeze([]) });

/**
 * Open (or create) the spool in `options.dir`, recovering what a previous
 * process left. Throws `ConfigError` for bad options, an unusable
 * directory or a directory locked by another process, and
 * `SpoolCorruptError` for data it cannot read back.
 */
export async function createDiskSpool(options: DiskSpoolOptions): Promise<DiskSpool> {
  const dir = resolve(checkSpoolOptions(options));
  await ensurePrivateDir(dir, 'spool.dir');
  const lock = await acquireDirLock(dir, 'LOCK', 'spool.dir');
  try {
    const id = options.id ?? `disk:${dir}`;
    const state = await recoverSpool(dir, { spool: id, ...(options.cipher === undefined ? {} : { cipher: options.cipher }) });
    const spool = new DiskSpoolImpl(dir, options, lock, state);
    await ensureReserve(dir);
    await spool.settleRecovered();
    for (const range of state.info.damaged) spool.reportDamage(range.file, range);
    if (state.info.records > 0 || state.info.bytesDropped > 0 || state.info.damaged.length > 0) options.onRecovered?.(state.info);
    return spool;
  } catch (error) {
    await lock.release();
    throw error;
  }
}

class DiskSpoolImpl implements DiskSpool {
  readonly id: string;
  readonly dir: string;
  readonly recovery: SpoolRecoveryInfo;
  private readonly maxBytes: number;
  private readonly cipher: SpoolCipher | undefined;
  private readonly logger: Logger;
  private readonly segments: SegmentInfo[];
  private readonly writer: SegmentWriter;
  private readonly admission: Admission;
  private readonly cursor: Coalescer;
  private readonly book = new LeaseBook();
  private readonly onEvent: ((event: SpoolEvent) => void) | undefined;
  private readonly leases = new WeakMap<Lease, BookEntry[]>();
  private acked: SpoolPosition;
  /** Where the lease path's reader stood after its last completed read. */
  private readAt: SpoolPosition;
  /** Records and bytes not yet acknowledged, kept right when damage appears (see record-tally.ts). */
  private readonly tally = new RecordTally();
  /** Bytes in segments from the acknowledged position on (kept current: recounted when the position moves). */
  private unacked: number;
  private syncs = 0;
  private readonly reader: SegmentReader;
  private leaseChain: Promise<unknown> = Promise.resolve();
  private closing: Promise<void> | undefined;

  constructor(dir: string, options: DiskSpoolOptions, private readonly lock: DirLock, state: RecoveredState) {
    this.dir = dir;
    this.id = options.id ?? `disk:${dir}`;
    this.recovery = state.info;
    this.maxBytes = options.maxBytes ?? DEFAULT_SPOOL_MAX_BYTES;
    this.cipher = options.cipher;
    this.logger = options.logger ?? pino({ name: 'spillway', level: 'warn' }, pino.destination(2));
    this.onEvent = options.onEvent;
    this.segments = state.segments;
    this.reader = this.newReader(state.position);
    this.acked = state.position;
    this.readAt = state.position;
    for (const count of state.counts) this.tally.countIn(count.seq, count.records, count.bytes);
    this.unacked = unackedBytes(state.segments, state.position);
    this.cursor = createCoalescer(() => this.persistCursor());
    this.writer = new SegmentWriter(dir, state.nextSeq, options.maxSegmentBytes ?? DEFAULT_SEGMENT_BYTES, {
      onSegmentCreated: (seq) => this.segments.push({ seq, size: 0 }),
      onDurable: (seq, bytes, records) => this.onDurable(seq, bytes, records),
      onSync: () => {
        this.syncs += 1;
        options.onSync?.();
      },
    }, this.id);
    this.admission = new Admission({
      id: this.id,
      dir,
      maxBytes: this.maxBytes,
      whenFull: options.whenFull ?? 'reject',
      blockTimeoutMs: options.blockTimeoutMs ?? DEFAULT_BLOCK_TIMEOUT_MS,
      writer: this.writer,
      unacked: () => this.unacked,
      assertOpen: () => this.assertOpen(),
    });
  }

  /** On open: move the cursor past fully acknowledged segments and delete them. */
  async settleRecovered(): Promise<void> {
    if (this.advanceAcked()) await this.cursor.request();
  }

  append(batch: readonly Envelope[]): Promise<void> {
    try {
      this.assertOpen();
      if (batch.length === 0) return Promise.resolve();
      const encoded = encodeFrames(batch, this.cipher);
      return this.admission.append(encoded, batch.length);
    } catch (error) {
      return Promise.reject(error);
    }
  }

  lease(max: number): Promise<Lease> {
    try {
      this.assertOpen();
      checkMax(max);
    } catch (error) {
      return Promise.reject(error);
    }
    const run = this.leaseChain.then(() => this.leaseNow(max));
    this.leaseChain = run.catch(() => undefined);
    return run;
  }

  async ack(lease: Lease): Promise<void> {
    this.assertOpen();
    const entries = this.claim(lease, 'acknowledge');
    if (entries === undefined) return;
    this.book.ack(entries);
    this.tally.acked(entries);
    this.admission.gate.wake();
    if (this.advanceAcked()) await this.cursor.request();
  }

  /**
   * Visit every durable record from the acknowledged position on, without
   * leasing it, through a reader of its own (the reconciler's survey). Damage
   * met here first is quarantined and reported here, exactly as the lease
   * path would (once: the lease path then skips it), and counted out.
   */
  async scan(visit: (envelope: Envelope) => void, signal?: AbortSignal): Promise<void> {
    this.assertOpen();
    const reader = this.newReader(this.acked);
    try {
      for (;;) {
        signal?.throwIfAborted();
        const entries = await reader.read(1_000);
        if (entries.length === 0) return;
        for (const entry of entries) visit(entry.envelope);
      }
    } finally {
      await reader.close();
    }
  }

  async release(lease: Lease): Promise<void> {
    this.assertOpen();
    const entries = this.claim(lease, 'release');
    if (entries !== undefined) this.book.release(entries);
  }

  async stats(): Promise<DiskSpoolStats> {
    this.assertOpen();
    const diskBytes = this.segments.reduce((sum, s) => sum + s.size, 0);
    return {
      records: this.tally.records,
      bytes: this.tally.bytes,
      segments: this.segments.length,
      diskBytes,
      usedBytes: this.usedBytes(),
      maxBytes: this.maxBytes,
      syncs: this.syncs,
    };
  }

  close(): Promise<void> {
    this.closing ??= this.shutdown();
    return this.closing;
  }

  private async shutdown(): Promise<void> {
    this.admission.gate.close(new ClosedError(`spool ${this.id} closed while an append waited for room; the batch was not stored`));
    try {
      await this.writer.close();
      await this.leaseChain;
      await this.cursor.idle();
      await this.reader.close();
    } finally {
      await this.lock.release();
    }
  }

  private assertOpen(): void {
    if (this.closing !== undefined) throw new ClosedError(`spool ${this.id} is closed`);
  }

  private claim(lease: Lease, verb: string): BookEntry[] | undefined {
    if (lease.envelopes.length === 0) return undefined;
    const entries = this.leases.get(lease);
    if (entries === undefined) {
      throw new ValidationError(`cannot ${verb} this lease: spool ${this.id} did not hand it out since it was opened, or it was already acknowledged or released`);
    }
    this.leases.delete(lease);
    return entries;
  }

  private onDurable(seq: number, bytes: number, records: number): void {
    const segment = this.segments.at(-1);
    if (segment?.seq !== seq) throw new Error(`spool invariant broken: segment ${seq} is not the last one`);
    this.admission.pendingBytes -= bytes;
    this.unacked += bytes;
    segment.size += bytes;
    this.tally.countIn(seq, records, bytes);
  }

  /** Report one quarantined range: an event and a log line naming file and offset. */
  reportDamage(file: string, range: DamagedRange): void {
    reportDamage({ spool: this.id, logger: this.logger, onEvent: this.onEvent }, file, range);
  }

  /** A reader of this spool (the lease path's or a survey's) starting at `from`; damage it finds first is counted out and reported. */
  private newReader(from: SpoolPosition): SegmentReader {
    const options = { dir: this.dir, onDamage: (seq: number, file: string, range: DamagedRange) => this.onReadDamage(seq, file, range) };
    return new SegmentReader(this.cipher === undefined ? options : { ...options, cipher: this.cipher }, this.segments, from);
  }

  private onReadDamage(seq: number, file: string, range: DamagedRange): void {
    // How many records the range held cannot be read from it: the tally takes one off now and settles the exact figure
    // once the segment has been read to its end (see record-tally.ts).
    this.tally.damage(seq, range);
    this.settleTally();
    this.reportDamage(file, range);
  }

  private settleTally(): void {
    this.tally.settle(this.segments, [this.readAt, this.acked]);
  }

  private usedBytes(): number {
    return this.admission.pendingBytes + this.unacked;
  }

  private async leaseNow(max: number): Promise<Lease> {
    const entries = this.book.takeReleased(max);
    try {
      if (entries.length < max) {
        const fresh = await this.reader.read(max - entries.length);
        this.book.add(fresh);
        this.tally.read(fresh);
        this.readAt = this.reader.at;
        this.settleTally();
        entries.push(...fresh);
      }
    } catch (error) {
      this.book.release(entries);
      throw error;
    }
    if (entries.length === 0) return EMPTY_LEASE;
    const lease: Lease = Object.freeze({ envelopes: Object.freeze(entries.map((e) => e.envelope)) });
    this.leases.set(lease, entries);
    return lease;
  }

  /** Pop the acknowledged prefix and skip sealed segments and damage it covers; true if the position moved. */
  private advanceAcked(): boolean {
    const last = this.book.popAckedPrefix();
    const from: SpoolPosition = last === undefined ? this.acked : { seq: last.seq, offset: last.end };
    const pos = skipAcknowledged(this.segments, from, this.writer.activeSeq);
    const moved = pos.seq !== this.acked.seq || pos.offset !== this.acked.offset;
    this.acked = pos;
    if (moved) {
      this.unacked = unackedBytes(this.segments, pos);
      this.settleTally();
    }
    return moved;
  }

  /** Write the cursor (spending the reserve on a full disk), then delete the segments it has moved past. */
  private async persistCursor(): Promise<void> {
    const pos = this.acked;
    const released = await writeCursorWithReserve(this.dir, pos);
    await pruneSegments(this.dir, this.segments, pos.seq, (seq) => {
      this.tally.forget(seq);
      return this.reader.forget(seq);
    });
    if (released) await ensureReserve(this.dir);
  }
}

function checkMax(max: number): void {
  if (!Number.isSafeInteger(max) || max < 0) throw new ValidationError(`lease(max) needs a whole number of records >= 0, got ${String(max)}`);
}
