/**
 * Admission of appends into the disk spool: the `maxBytes` cap and the
 * `whenFull` policy. A batch that fits goes straight to the segment writer
 * (one promise per append); one that does not is rejected with SpoolFullError
 * (`'reject'`) or waits for room up to `blockTimeoutMs` (`'block'`), woken
 * by acknowledgements. ENOSPC from the writer is handled the same way, with
 * a poll, since a filesystem says nothing when space comes back.
 */
import type { EncodedBatch } from './framing.js';
import { RoomGate } from './room-gate.js';
import { isNoSpace, type SegmentWriter } from './segment-writer.js';
import { spoolFullError } from './spool-options.js';

/** How often a blocked append retries a filesystem that said ENOSPC. */
const NO_SPACE_RETRY_MS = 250;

/** What admission needs from the spool. */
export interface AdmissionOptions {
  readonly id: string;
  readonly dir: string;
  readonly maxBytes: number;
  readonly whenFull: 'block' | 'reject';
  readonly blockTimeoutMs: number;
  readonly writer: SegmentWriter;
  /** Bytes on disk not yet acknowledged. */
  unacked(): number;
  /** Throws ClosedError once the spool is closing. */
  assertOpen(): void;
}

/** See the module comment. */
export class Admission {
  /** Bytes of appends handed to the writer and not yet durable or failed. */
  pendingBytes = 0;
  /** Where blocked appends wait; the spool wakes it on every ack and closes it on close. */
  readonly gate = new RoomGate();

  constructor(private readonly o: AdmissionOptions) {}

  /** Bytes counted against `maxBytes`. */
  used(): number {
    return this.pendingBytes + this.o.unacked();
  }

  /** Append an encoded batch of `count` records under the cap and the `whenFull` policy. */
  append(encoded: EncodedBatch, count: number): Promise<void> {
    // Fast path: room now and nobody waiting for room ahead of this batch.
    if (this.used() + encoded.buffer.length <= this.o.maxBytes && this.gate.waiting === 0) return this.write(encoded, count);
    return this.appendWhenRoom(encoded, count, Date.now());
  }

  /** Write a batch that fits; on ENOSPC with `whenFull: 'block'`, wait for room and try again. */
  private write(encoded: EncodedBatch, count: number, started?: number): Promise<void> {
    const size = encoded.buffer.length;
    this.pendingBytes += size;
    return this.o.writer.write(encoded).then(undefined, async (error: unknown) => {
      this.pendingBytes -= size;
      if (!isNoSpace(error) || this.o.whenFull === 'reject') throw error;
      const since = started ?? Date.now();
      if (!(await this.waitForRoom(since, NO_SPACE_RETRY_MS))) throw error;
      return this.appendWhenRoom(encoded, count, since);
    });
  }

  /** Slow path: reject at once (`whenFull: 'reject'`) or wait for room up to `blockTimeoutMs` (`'block'`). */
  private async appendWhenRoom(encoded: EncodedBatch, count: number, started: number): Promise<void> {
    const size = encoded.buffer.length;
    for (;;) {
      const used = this.used();
      if (used + size <= this.o.maxBytes) return this.write(encoded, count, started);
      const full = { count, size, used };
      if (this.o.whenFull === 'reject' || size > this.o.maxBytes) throw spoolFullError(this.limits(), full);
      if (!(await this.waitForRoom(started))) throw spoolFullError(this.limits(), { ...full, waitedMs: Date.now() - started });
    }
  }

  private limits(): { id: string; dir: string; maxBytes: number } {
    return { id: this.o.id, dir: this.o.dir, maxBytes: this.o.maxBytes };
  }

  /** Wait for room until `blockTimeoutMs` after `started` (at most `pollMs`); false once that time is up. */
  private async waitForRoom(started: number, pollMs = Number.POSITIVE_INFINITY): Promise<boolean> {
    const left = started + this.o.blockTimeoutMs - Date.now();
    if (left <= 0) return false;
    await this.gate.wait(Math.min(left, pollMs));
    this.o.assertOpen();
    return true;
  }

}
