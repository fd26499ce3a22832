import type { Envelope } from '../envelope/types.js';
import type { SpillwayError } from '../errors/base.js';

/** Where an accepted record now lives in a target, when the target says. */
export interface Receipt {
  shardId?: string;
  sequenceNumber?: string;
}

/**
 * The outcome of one `put`. Records not listed in `failed` were accepted
 * (durably, as the target defines it). Like Kinesis' FailedRecordCount,
 * failure is per record: callers retry only what is listed.
 */
export interface PutResult {
  /** The records the target did not take, each with why (the envelope as given to `put`; a copy is matched by id). */
  failed: ReadonlyArray<{ envelope: Envelope; error: SpillwayError }>;
  /** Optional per-record receipts, in the order of the batch given to `put` (none for a failed record). */
  receipts?: ReadonlyArray<Receipt | undefined>;
}

/**
 * A remote destination for records: a Kinesis stream, an SQS queue, an
 * EventBridge bus. A whole-call failure throws a classified SpillwayError
 * (ThrottledError, TransientError, TargetRejectedError); never a raw SDK error.
 */
export interface Target {
  /** Stable id such as `kinesis:us-east-1:orders`. */
  readonly id: string;
  /** Records per `put` the target accepts at most. */
  readonly maxBatchRecords: number;
  /** Bytes per `put` the target accepts at most. */
  readonly maxBatchBytes: number;
  /**
   * Bytes one record may take, as spillway encodes it (default: `maxBatchBytes`).
   * A larger record is passed to the next tier with a `bus.oversize` event, never truncated.
   */
  readonly maxRecordBytes?: number;
  put(batch: readonly Envelope[], signal: AbortSignal): Promise<PutResult>;
  /** A cheap call that succeeds only when the target can take writes. */
  probe(signal: AbortSignal): Promise<void>;
  close(): Promise<void>;
}
