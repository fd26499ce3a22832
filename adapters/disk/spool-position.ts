/**
 * Small pure pieces of the disk spool's bookkeeping: where the durable
 * cursor may move, how many bytes are not yet drained, and how damage is
 * reported.
 */
import { unlink } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger } from 'pino';
import type { SpoolEvent } from '../../src/contracts/descriptor.js';
import type { SpoolPosition } from './cursor.js';
import { skipDamage, type DamagedRange } from './quarantine.js';
import { errnoCode, ioError } from './fs-util.js';
import type { SegmentInfo } from './recovery.js';
import { segmentName } from './segment.js';

/**
 * Move `from` over damaged ranges and over the ends of sealed segments it has
 * reached, never past the end of the segment being appended to (`activeSeq`).
 */
export function skipAcknowledged(segments: readonly SegmentInfo[], from: SpoolPosition, activeSeq: number | undefined): SpoolPosition {
  let pos = from;
  for (;;) {
    const index = segments.findIndex((s) => s.seq >= pos.seq);
    const segment = segments[index];
    if (segment === undefined) return pos;
    if (segment.seq > pos.seq) pos = { seq: segment.seq, offset: 0 };
    pos = { seq: pos.seq, offset: skipDamage(segment.damaged, pos.offset) };
    if (segment.seq === activeSeq || pos.offset < segment.size) return pos;
    pos = { seq: segments[index + 1]?.seq ?? segment.seq + 1, offset: 0 };
  }
}

/** Bytes in segments from `acked` on: what counts against `maxBytes` (besides appends in flight). */
export function unackedBytes(segments: readonly SegmentInfo[], acked: SpoolPosition): number {
  let used = 0;
  for (const segment of segments) {
    if (segment.seq > acked.seq) used += segment.size;
    else if (segment.seq === acked.seq) used += segment.size - acked.offset;
  }
  return used;
}

/** Where damage reports go. */
export interface DamageSink {
  readonly spool: string;
  readonly logger: Logger;
  readonly onEvent: ((event: SpoolEvent) => void) | undefined;
}

/** Report one quarantined range: a `quarantined` event and an error log line naming file and offset. */
export function reportDamage(sink: DamageSink, file: string, range: DamagedRange): void {
  const bytes = range.end - range.offset;
  sink.logger.error(
    { spool: sink.spool, file, offset: range.offset, bytes, reason: range.reason, quarantinedAs: range.quarantinedAs },
    'Spool segment is damaged: the bad bytes were copied to quarantine and reading goes on at the next valid record.',
  );
  try {
    sink.onEvent?.({ type: 'quarantined', spool: sink.spool, file, offset: range.offset, bytes, reason: range.reason });
  } catch {
    // a listener's failure is not the spool's
  }
}

/** Delete the segments before `seq` (the cursor has durably moved past them), first telling the reader to let go of each. */
export async function pruneSegments(dir: string, segments: SegmentInfo[], seq: number, forget: (seq: number) => Promise<void>): Promise<void> {
  while (segments[0] !== undefined && segments[0].seq < seq) {
    const segment = segments.shift() as SegmentInfo;
    await forget(segment.seq);
    const file = join(dir, segmentName(segment.seq));
    await unlink(file).catch((cause: unknown) => {
      if (errnoCode(cause) !== 'ENOENT') throw ioError('delete the acknowledged spool segment', file, cause);
    });
  }
}
