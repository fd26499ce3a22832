import type { Envelope } from '../envelope/types.js';

/** A chunk read from a {@link DrainSource}; commit it once every record in it is handled. */
export interface SourceChunk {
  readonly envelopes: readonly Envelope[];
  /** Records read with this chunk that are not spillway envelopes (skipped, not replayed). */
  readonly foreign?: number;
  /** Records read with this chunk that another producer wrote to a shared fallback (left to it). */
  readonly otherProducers?: number;
  commit(): Promise<void>;
}

/**
 * Something the reconciler drains back into the primary: the spool, or one
 * shard of a secondary stream. Each source yields records in the order they
 * were written to it.
 */
export interface DrainSource {
  readonly id: string;
  /** The next chunk, or `undefined` when the source has nothing more right now. */
  next(max: number, signal: AbortSignal): Promise<SourceChunk | undefined>;
  /**
   * Visit every record `next` would yield from the committed position to the
   * end, without consuming anything (memory: none kept beyond the visit).
   * Optional; the reconciler uses it to coalesce snapshots across the whole backlog.
   */
  survey?(visit: (envelope: Envelope) => void, signal: AbortSignal): Promise<void>;
  /** Hand back a chunk that was read but not committed, so it is read again. */
  abandon?(chunk: SourceChunk): Promise<void>;
}
