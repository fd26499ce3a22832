/**
 * How many records (and bytes) the disk spool holds that are not yet
 * acknowledged: what `stats()` reports.
 *
 * Records are counted in on open (valid frames from where reading starts) and
 * on every durable append, and counted out when acknowledged. Damage that
 * appears while the spool is open takes records with it that were counted in,
 * and how many cannot be read from the damaged range itself: a length header
 * may be among the bad bytes, and a range ends only where the next valid
 * frame begins, so two adjacent bad records look like one run of bytes. What
 * the spool does know exactly, per segment, is how many records it counted
 * in and how many valid records the lease path read back out of it. So:
 * - when a damaged range is found, one record (at least one counted frame
 *   lies in any range found after open) and the range's bytes are taken off
 *   at once, as an estimate;
 * - once the lease path has read a segment to the end of its durable bytes,
 *   or the cursor has moved past it, the segment has lost exactly
 *   `counted - read` records (and bytes), and the estimate is corrected to
 *   that (again each time more is appended to it and read).
 * The figures reported are never below zero, and once every record has been
 * read and acknowledged they are zero.
 */
import type { SpoolPosition } from './cursor.js';
import type { BookEntry } from './lease-book.js';
import { skipDamage, type DamagedRange } from './quarantine.js';
import type { SegmentInfo } from './recovery.js';

/** Records and bytes, framing included. */
export interface Count {
  records: number;
  bytes: number;
}

interface SegmentTally {
  /** Counted in: valid on open from where reading starts, plus durable appends. */
  readonly counted: Count;
  /** Read back out by the lease path (valid frames handed to the lease book). */
  readonly read: Count;
  /** Taken off for damage so far (an estimate until the segment is settled). */
  readonly lost: Count;
}

/** The spool's record and byte counts; see the module comment. */
export class RecordTally {
  /** Unclamped: an estimate may briefly overshoot before a segment is settled. */
  private readonly total: Count = { records: 0, bytes: 0 };
  private readonly segments = new Map<number, SegmentTally>();
  /** Segments with damage reported since open: the only ones whose estimate may need settling. */
  private readonly damaged = new Set<number>();

  /** Records in segment `seq` counted in: found valid on open, or appended and fdatasync'd. */
  countIn(seq: number, records: number, bytes: number): void {
    const tally = this.segment(seq);
    add(tally.counted, records, bytes);
    add(this.total, records, bytes);
  }

  /** Fresh records the lease path read (not records released and leased again). */
  read(entries: readonly BookEntry[]): void {
    for (const entry of entries) {
      const tally = this.segments.get(entry.seq);
      if (tally !== undefined) add(tally.read, 1, entry.bytes);
    }
  }

  /** Records acknowledged. */
  acked(entries: readonly BookEntry[]): void {
    for (const entry of entries) add(this.total, -1, -entry.bytes);
  }

  /** A damaged range found in segment `seq` (by any reader): take off the estimate until the segment is settled. */
  damage(seq: number, range: DamagedRange): void {
    const tally = this.segments.get(seq);
    // A segment already deleted: the cursor moved past it, so its records are already counted out.
    if (tally === undefined) return;
    this.damaged.add(seq);
    const bytes = range.end - range.offset;
    add(tally.lost, 1, bytes);
    add(this.total, -1, -bytes);
  }

  /**
   * Correct the estimate of every damaged segment that has been read to its
   * end: one that the lease path's position (as of its last completed read)
   * or the acknowledged position has reached the end of, or moved past.
   */
  settle(segments: readonly SegmentInfo[], positions: readonly SpoolPosition[]): void {
    if (this.damaged.size === 0) return;
    for (const segment of segments) {
      if (!this.damaged.has(segment.seq) || !positions.some((pos) => readToEnd(segment, pos))) continue;
      const tally = this.segments.get(segment.seq) as SegmentTally;
      const records = Math.max(0, tally.counted.records - tally.read.records);
      const bytes = Math.max(0, tally.counted.bytes - tally.read.bytes);
      add(this.total, tally.lost.records - records, tally.lost.bytes - bytes);
      tally.lost.records = records;
      tally.lost.bytes = bytes;
    }
  }

  /** Segment `seq` was deleted (the cursor durably moved past it, after {@link settle}). */
  forget(seq: number): void {
    this.segments.delete(seq);
    this.damaged.delete(seq);
  }

  /** Records not yet acknowledged, never below zero. */
  get records(): number {
    return Math.max(0, this.total.records);
  }

  /** Their bytes, framing included, never below zero. */
  get bytes(): number {
    return Math.max(0, this.total.bytes);
  }

  private segment(seq: number): SegmentTally {
    let tally = this.segments.get(seq);
    if (tally === undefined) {
      tally = { counted: { records: 0, bytes: 0 }, read: { records: 0, bytes: 0 }, lost: { records: 0, bytes: 0 } };
      this.segments.set(seq, tally);
    }
    return tally;
  }
}

function add(count: Count, records: number, bytes: number): void {
  count.records += records;
  count.bytes += bytes;
}

/** True when reading at `pos` has nothing left in `segment`: it is past the segment, or at its durable end (damage skipped). */
function readToEnd(segment: SegmentInfo, pos: SpoolPosition): boolean {
  if (pos.seq !== segment.seq) return pos.seq > segment.seq;
  return skipDamage(segment.damaged, pos.offset) >= segment.size;
}
