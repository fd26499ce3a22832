import { isSpillwayError, SpillwayError, type SpillwayErrorOptions } from './base.js';

/**
 * The target is throttling us. Back off and retry the same target: throttling
 * is not an outage, so it never opens a breaker or triggers failover by itself.
 */
export class ThrottledError extends SpillwayError {
  static readonly code = 'spillway:throttled';
  constructor(message: string, options?: SpillwayErrorOptions) {
    super(ThrottledError.code, message, true, options);
  }
}

/**
 * The target did not answer well: refused connection, timeout, 5xx, internal
 * failure. Retryable, and a reason to fail over to the next tier.
 *
 * `ambiguous` is true when the request may have been applied anyway (a
 * timeout after it was sent, a reset connection, a 5xx): the record may be in
 * the target although the call failed.
 */
export class TransientError extends SpillwayError {
  static readonly code = 'spillway:transient';
  readonly ambiguous: boolean;
  constructor(message: string, options: SpillwayErrorOptions & { ambiguous?: boolean } = {}) {
    super(TransientError.code, message, true, options);
    this.ambiguous = options.ambiguous ?? false;
  }
}

/** True for a TransientError whose request may have been applied (see {@link TransientError}). */
export function isAmbiguousFailure(error: unknown): boolean {
  return isSpillwayError(error) && error.code === TransientError.code && (error as TransientError).ambiguous === true;
}

/**
 * The target rejected the request for a reason that will not change by
 * retrying it there (missing stream, access denied). Fails over, never retried
 * on the same target.
 */
export class TargetRejectedError extends SpillwayError {
  static readonly code = 'spillway:target-rejected';
  constructor(message: string, options?: SpillwayErrorOptions) {
    super(TargetRejectedError.code, message, false, options);
  }
}

/** An operation was attempted on a bus, target or spool that is closed. */
export class ClosedError extends SpillwayError {
  static readonly code = 'spillway:closed';
  constructor(message: string, options?: SpillwayErrorOptions) {
    super(ClosedError.code, message, false, options);
  }
}

/** One tier's failure, as listed by {@link AllTiersFailedError}. */
export interface TierFailure {
  tier: string;
  target: string;
  error: unknown;
}

/**
 * Every tier, the spool included, failed to hold a record. The record was not
 * acknowledged; `failures` lists each tier's cause in order.
 */
export class AllTiersFailedError extends SpillwayError {
  static readonly code = 'spillway:all-tiers-failed';
  readonly failures: readonly TierFailure[];
  constructor(recordId: string, failures: readonly TierFailure[]) {
    const lines = failures.map((f) => `  - ${f.tier} ${f.target}: ${describe(f.error)}`);
    super(
      AllTiersFailedError.code,
      `record ${recordId} was not accepted by any tier, the spool included; it was NOT stored:\n${lines.join('\n')}`,
      true,
      { recordId, cause: failures.at(-1)?.error },
    );
    this.failures = failures;
  }
}

function describe(error: unknown): string {
  if (error instanceof Error) return error.message;
  return String(error);
}
