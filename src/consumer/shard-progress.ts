/**
 * Which records of one shard are finished, and the checkpoint that follows.
 *
 * Invariants:
 * - the checkpoint only ever names a sequence number such that every record
 *   of the shard up to and including it was finished (handled, dead-lettered
 *   or dropped as a duplicate): a record still in flight holds it back;
 * - one checkpoint write at a time; a newer position waiting replaces an
 *   older one (the store sees positions in increasing order);
 * - a failed write is reported and retried with the next advance or flush;
 * - records are tracked by progress key (see `progressKey`): the user records
 *   of a KPL aggregate before its last never become the checkpoint, so a
 *   restart re-reads a partly finished aggregate whole (the dedupe store drops
 *   what was already handled).
 */
import { type Coalescer, createCoalescer } from '../../adapters/disk/coalescer.js';
import { isCheckpointable } from './record.js';

/** Writes a shard's position; a rejection is reported, never fatal. */
export type CheckpointWriter = (sequenceNumber: string) => Promise<void>;

/** Progress of one shard. */
export class ShardProgress {
  readonly #order: string[] = [];
  #head = 0;
  readonly #done = new Set<string>();
  #position: string | undefined;
  #written: string | undefined;
  readonly #writer: Coalescer;
  #idleWaiters: Array<() => void> = [];

  constructor(write: CheckpointWriter, onError: (error: unknown) => void, start?: string) {
    this.#position = start;
    this.#written = start;
    this.#writer = createCoalescer(async () => {
      const target = this.#position;
      if (target === undefined || target === this.#written) return;
      try {
        await write(target);
        this.#written = target;
      } catch (error) {
        onError(error);
      }
    });
  }

  /** Records read, in shard order, before any of them is finished. */
  track(sequenceNumbers: readonly string[]): void {
    for (const s of sequenceNumbers) this.#order.push(s);
  }

  /** Records not finished yet. */
  get pending(): number {
    return this.#order.length - this.#head;
  }

  /** The last position every record up to which is finished. */
  get position(): string | undefined {
    return this.#position;
  }

  /** Mark one record finished; moves (and writes) the checkpoint when the prefix grew. */
  complete(sequenceNumber: string): void {
    let moved = false;
    if (this.#done.size === 0 && this.#head < this.#order.length && this.#order[this.#head] === sequenceNumber) {
      // The common case, records finishing in shard order: no set of finished ones to keep.
      this.#head++;
      if (isCheckpointable(sequenceNumber)) {
        this.#position = sequenceNumber;
        moved = true;
      }
    } else this.#done.add(sequenceNumber);
    while (this.#done.size > 0 && this.#head < this.#order.length && this.#done.has(this.#order[this.#head] as string)) {
      const s = this.#order[this.#head++] as string;
      this.#done.delete(s);
      if (isCheckpointable(s)) {
        this.#position = s;
        moved = true;
      }
    }
    if (this.#head > 1024 && this.#head * 2 > this.#order.length) {
      this.#order.splice(0, this.#head);
      this.#head = 0;
    }
    if (moved) void this.#writer.request();
    if (this.pending === 0) for (const w of this.#idleWaiters.splice(0)) w();
  }

  /** Resolves when every tracked record is finished. */
  idle(): Promise<void> {
    if (this.pending === 0) return Promise.resolve();
    return new Promise((resolve) => this.#idleWaiters.push(resolve));
  }

  /** Write the current position if it is newer than the last written one; resolves when written (or failed). */
  async flush(): Promise<void> {
    await this.#writer.request();
  }
}
