/**
 * Opening a spool directory: read the cursor, remove segments it has moved
 * past, and scan the rest (cutting a torn tail off the last segment after
 * keeping a copy of it beside the segment; copying damaged ranges to the
 * quarantine directory so reading can skip them).
 */
import { unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { readCursor, type SpoolPosition } from './cursor.js';
import { errnoCode, fsyncDir, ioError } from './fs-util.js';
import type { DamagedRange } from './quarantine.js';
import { listSegments, scanSegment, segmentName, type ScanKeys } from './segment.js';

/** An unacknowledged tail (from the first bad frame on) cut off the last segment on open. */
export interface TruncatedTail {
  /** Path of the segment. */
  readonly file: string;
  /** Byte offset the segment was cut back to: where its first bad frame began. */
  readonly offset: number;
  readonly bytesDropped: number;
  /**
   * Path of the copy of the cut bytes, `<file>.torn-<offset>` (mode 0600), kept
   * for inspection; absent when they were all zeros. The spool never deletes it.
   */
  readonly keptAs?: string;
}

/** What opening a spool found; passed to `onRecovered` and kept as `spool.recovery`. */
export interface SpoolRecoveryInfo {
  readonly dir: string;
  /** Unacknowledged records found, to be leased again. */
  readonly records: number;
  /** Their bytes, framing included. */
  readonly bytes: number;
  /** Segment files holding them. */
  readonly segments: number;
  /** Bytes cut off the end of the last segment (appends that never resolved); see `truncated`. */
  readonly bytesDropped: number;
  readonly truncated: readonly TruncatedTail[];
  /** Damaged ranges found and quarantined (reading skips them); `file` is the segment. */
  readonly damaged: ReadonlyArray<DamagedRange & { readonly file: string }>;
}

/** The durable size of one segment. */
export interface SegmentInfo {
  readonly seq: number;
  size: number;
  /** Ranges of bad bytes found in it (at open or while reading), skipped by readers and the cursor. */
  damaged?: DamagedRange[];
}

/** Everything the spool needs to resume. */
export interface RecoveredState {
  readonly segments: SegmentInfo[];
  /** Where leasing starts: the cursor, or the first segment after it. */
  readonly position: SpoolPosition;
  readonly nextSeq: number;
  readonly info: SpoolRecoveryInfo;
  /** Valid records (and their bytes) found in each live segment from where leasing starts, oldest segment first. */
  readonly counts: ReadonlyArray<{ readonly seq: number; readonly records: number; readonly bytes: number }>;
}

/** Recover the spool in `dir` (which the caller has locked). */
export async function recoverSpool(dir: string, keys: ScanKeys): Promise<RecoveredState> {
  const cursor = await readCursor(dir);
  const all = await listSegments(dir);
  await removeSegments(
    dir,
    all.filter((seq) => seq < cursor.seq),
  );
  const live = all.filter((seq) => seq >= cursor.seq);
  const segments: SegmentInfo[] = [];
  const truncated: TruncatedTail[] = [];
  const damaged: Array<DamagedRange & { file: string }> = [];
  const counts: Array<{ seq: number; records: number; bytes: number }> = [];
  let records = 0;
  let bytes = 0;
  for (const [i, seq] of live.entries()) {
    const file = join(dir, segmentName(seq));
    const scan = await scanSegment(dir, file, seq === cursor.seq ? cursor.offset : 0, i === live.length - 1, keys);
    segments.push({ seq, size: scan.size, ...(scan.damaged.length > 0 ? { damaged: scan.damaged } : {}) });
    for (const range of scan.damaged) damaged.push({ ...range, file });
    counts.push({ seq, records: scan.records, bytes: scan.bytes });
    records += scan.records;
    bytes += scan.bytes;
    if (scan.dropped > 0) truncated.push({ file, offset: scan.size, bytesDropped: scan.dropped, ...(scan.keptAs === undefined ? {} : { keptAs: scan.keptAs }) });
  }
  const first = segments[0];
  const position = first === undefined || first.seq === cursor.seq ? cursor : { seq: first.seq, offset: 0 };
  const nextSeq = Math.max(cursor.seq, all.at(-1) ?? 0) + 1;
  const bytesDropped = truncated.reduce((sum, t) => sum + t.bytesDropped, 0);
  return { segments, position, nextSeq, info: { dir, records, bytes, segments: segments.length, bytesDropped, truncated, damaged }, counts };
}

/** Segments the cursor has moved past: a crash came between the cursor write and their deletion. */
async function removeSegments(dir: string, seqs: readonly number[]): Promise<void> {
  if (seqs.length === 0) return;
  for (const seq of seqs) {
    const file = join(dir, segmentName(seq));
    await unlink(file).catch((cause: unknown) => {
      if (errnoCode(cause) !== 'ENOENT') throw ioError('delete the acknowledged spool segment', file, cause);
    });
  }
  await fsyncDir(dir);
}
