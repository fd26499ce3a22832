/**
 * Delivering records to one tier: chunked to the target's limits, throttled
 * records retried on the same target with backoff, per-record failures
 * retried alone (never the whole batch), failures no retry can change
 * (access denied, …) passed on at once, records over the target's per-record
 * limit passed on whole without a call, and whatever the tier cannot take
 * handed back so the router can give it to the next tier.
 */
import type { Receipt } from '../contracts/index.js';
import type { Envelope } from '../envelope/index.js';
import { encodedSize } from '../envelope/index.js';
import { hasCode, isValidationError, type SpillwayError, TargetRejectedError, ThrottledError } from '../errors/index.js';
import { backoffDelay, type BackoffOptions, wait } from './backoff.js';
import type { GuardedTarget } from './breaker.js';
import { chunkBatch } from './chunk.js';

/** How hard one tier is tried before its records move on. */
export interface DeliveryOptions {
  /** How long throttled records keep retrying on the same target, in ms (default 30000). */
  throttleBudgetMs?: number;
  /** Attempts for a record that failed alone with a transient error (default 3). */
  maxRecordAttempts?: number;
  backoff?: BackoffOptions;
}

/** What one tier did with the records it was given. */
export interface TierOutcome {
  /** Records this tier took, in the order it took them. */
  accepted: Envelope[];
  /** The receipt of each accepted record, at its place in `accepted` (none where the target gave none). */
  receipts: Array<Receipt | undefined>;
  /** Records this tier could not take; the next tier should try them. */
  passed: Array<{ envelope: Envelope; error: SpillwayError }>;
  /** Records that are invalid everywhere: never offered to another tier. */
  rejected: Array<{ envelope: Envelope; error: SpillwayError }>;
  /** Records that overflowed because throttling outlasted the budget. */
  overflowed: number;
  /** Retry rounds caused by throttling (a pacing signal for the reconciler). */
  throttledRounds: number;
  /** Records over the target's per-record limit, passed on without a call (they are in `passed` too). */
  oversized: { records: number; largestBytes: number; limitBytes: number };
}

/**
 * Offer `records` to one tier. Once a whole call fails, the rest of the
 * records pass to the next tier too, so a later record never lands on this
 * tier ahead of an earlier one that moved on.
 */
export async function deliverToTier(tier: GuardedTarget, records: readonly Envelope[], options: DeliveryOptions, signal: AbortSignal): Promise<TierOutcome> {
  const limitBytes = tier.target.maxRecordBytes ?? tier.target.maxBatchBytes;
  const outcome: TierOutcome = { accepted: [], receipts: [], passed: [], rejected: [], overflowed: 0, throttledRounds: 0, oversized: { records: 0, largestBytes: 0, limitBytes } };
  const fitting = records.filter((envelope) => fits(tier, envelope, limitBytes, outcome));
  let down: SpillwayError | undefined;
  for (const chunk of chunkBatch(fitting, tier.target.maxBatchRecords, tier.target.maxBatchBytes)) {
    if (down) {
      for (const envelope of chunk) outcome.passed.push({ envelope, error: down });
      continue;
    }
    down = await deliverChunk(tier, chunk, options, signal, outcome);
  }
  return outcome;
}

/** False (and the record passed on with a reason) when it is over the target's per-record limit. */
function fits(tier: GuardedTarget, envelope: Envelope, limitBytes: number, outcome: TierOutcome): boolean {
  const size = encodedSize(envelope);
  if (size <= limitBytes) return true;
  const error = new TargetRejectedError(`record is ${size} bytes encoded, over ${tier.target.id}'s ${limitBytes}-byte limit per record; it skips this tier`, {
    target: tier.target.id,
    recordId: envelope.id,
  });
  outcome.passed.push({ envelope, error });
  outcome.oversized.records++;
  outcome.oversized.largestBytes = Math.max(outcome.oversized.largestBytes, size);
  return false;
}

/**
 * A target's failures with each envelope the very object that was sent: the
 * router places outcomes by identity, and a target may hand back a copy (found
 * again by id).
 */
function asSent(failed: ReadonlyArray<{ envelope: Envelope; error: SpillwayError }>, sent: readonly Envelope[]): ReadonlyArray<{ envelope: Envelope; error: SpillwayError }> {
  const ids = new Set(sent);
  if (failed.every((f) => ids.has(f.envelope))) return failed;
  const byId = new Map(sent.map((e) => [e.id, e]));
  return failed.map((f) => (ids.has(f.envelope) ? f : { envelope: byId.get(f.envelope.id) ?? f.envelope, error: f.error }));
}

/** Deliver one chunk; returns the whole-call error if the tier is down. */
async function deliverChunk(tier: GuardedTarget, chunk: Envelope[], options: DeliveryOptions, signal: AbortSignal, outcome: TierOutcome): Promise<SpillwayError | undefined> {
  const budgetMs = options.throttleBudgetMs ?? 30_000;
  const maxAttempts = options.maxRecordAttempts ?? 3;
  const started = Date.now();
  const attempts = new Map<string, number>();
  let pending = chunk;
  for (let round = 0; pending.length > 0; round++) {
    const throttleLeft = budgetMs - (Date.now() - started);
    let failed: ReadonlyArray<{ envelope: Envelope; error: SpillwayError }>;
    try {
      const sent = pending;
      const result = await tier.fire(() => tier.target.put(sent, signal));
      failed = result.failed.length === 0 ? result.failed : asSent(result.failed, sent);
      const failedOnes = failed.length === 0 ? undefined : new Set(failed.map((f) => f.envelope));
      const receipts = result.receipts;
      for (let i = 0; i < sent.length; i++) {
        const envelope = sent[i] as Envelope;
        if (failedOnes?.has(envelope)) continue;
        outcome.accepted.push(envelope);
        outcome.receipts.push(receipts?.[i]);
      }
    } catch (caught) {
      const error = caught as SpillwayError;
      if (isValidationError(error)) {
        for (const envelope of pending) outcome.rejected.push({ envelope, error });
        return undefined;
      }
      if (!hasCode(error, ThrottledError.code)) {
        for (const envelope of pending) outcome.passed.push({ envelope, error });
        return error;
      }
      failed = pending.map((envelope) => ({ envelope, error }));
    }
    pending = [];
    for (const f of failed) {
      if (isValidationError(f.error)) outcome.rejected.push(f);
      else if (hasCode(f.error, ThrottledError.code)) {
        if (throttleLeft > 0) pending.push(f.envelope);
        else {
          outcome.passed.push(f);
          outcome.overflowed++;
        }
      } else if (!(f.error as SpillwayError).retryable) {
        outcome.passed.push(f); // refused for a reason a retry cannot change (access denied, …): the next tier at once
      } else {
        const n = (attempts.get(f.envelope.id) ?? 1) + 1;
        attempts.set(f.envelope.id, n);
        if (n <= maxAttempts) pending.push(f.envelope);
        else outcome.passed.push(f);
      }
    }
    if (pending.length === 0) break;
    if (failed.some((f) => hasCode(f.error, ThrottledError.code))) outcome.throttledRounds++;
    await wait(backoffDelay(round, options.backoff), signal);
  }
  return undefined;
}
