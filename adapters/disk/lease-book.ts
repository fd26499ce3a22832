/**
 * Bookkeeping for records handed out by a spool and not yet acknowledged.
 * Entries are kept in append order; the acknowledged prefix is popped off the
 * front, which is what lets the durable cursor advance only over a
 * contiguous run of acknowledged records.
 */
import type { Envelope } from '../../src/envelope/types.js';

/** One record that was leased at least once and is not yet part of the acked prefix. */
export interface BookEntry {
  readonly seq: number;
  readonly offset: number;
  /** Offset just past the record's frame. */
  readonly end: number;
  /** Bytes the record takes on disk, framing included. */
  readonly bytes: number;
  readonly envelope: Envelope;
  state: 'leased' | 'released' | 'acked';
}

/** Leased and released records, in append order. */
export class LeaseBook {
  private entries: BookEntry[] = [];
  private head = 0;
  private releasedCount = 0;

  /** Released records to hand out again first, oldest first; they become leased. */
  takeReleased(max: number): BookEntry[] {
    const out: BookEntry[] = [];
    for (let i = this.head; i < this.entries.length && out.length < max && this.releasedCount > 0; i += 1) {
      const entry = this.entries[i];
      if (entry?.state !== 'released') continue;
      entry.state = 'leased';
      this.releasedCount -= 1;
      out.push(entry);
    }
    return out;
  }

  /** Record newly leased entries; they come after every entry already here. */
  add(entries: readonly BookEntry[]): void {
    for (const entry of entries) this.entries.push(entry);
  }

  /** Mark leased entries acknowledged. */
  ack(entries: readonly BookEntry[]): void {
    for (const entry of entries) entry.state = 'acked';
  }

  /** Mark leased entries released: they are leased again before anything newer. */
  release(entries: readonly BookEntry[]): void {
    for (const entry of entries) {
      entry.state = 'released';
      this.releasedCount += 1;
    }
  }

  /** Pop the acknowledged prefix; returns its last entry, if any was popped. */
  popAckedPrefix(): BookEntry | undefined {
    let last: BookEntry | undefined;
    for (let entry = this.entries[this.head]; entry?.state === 'acked'; entry = this.entries[this.head]) {
      last = entry;
      this.head += 1;
    }
    if (this.head > 1024 && this.head * 2 > this.entries.length) {
      this.entries = this.entries.slice(this.head);
      this.head = 0;
    }
    return last;
  }
}
