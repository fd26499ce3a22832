/**
 * Sending one spillway batch as one or more batch calls (SQS
 * SendMessageBatch, EventBridge PutEvents), with per-entry results, shared by
 * both queue-like targets.
 *
 * Invariants
 * - A record too large for the service is never sent: it is reported failed
 *   with a TargetRejectedError (not a ValidationError), so the router hands it
 *   to the next tier instead of refusing it everywhere.
 * - If the first call fails as a whole the error is thrown (the tier is down);
 *   if a later call fails, only its records (and those after it, which are not
 *   sent) are reported failed with that error: earlier calls were accepted.
 */
import type { PutResult } from '../../src/contracts/index.js';
import type { Envelope } from '../../src/envelope/index.js';
import { type ErrorContext, type SpillwayError, TargetRejectedError } from '../../src/errors/index.js';
import { classifyAwsError } from '../aws/classify.js';
import { splitIntoCalls } from './body.js';

/** One call's outcome: the failed entries by their index within the call. */
export type CallFailures = ReadonlyMap<number, SpillwayError>;

/** How a target sends its calls. */
export interface BatchPutPlan {
  context: ErrorContext;
  /** Bytes one record takes in a call, as the service counts them. */
  entrySize(envelope: Envelope): number;
  /** Largest `entrySize` the service takes. */
  maxEntryBytes: number;
  maxEntries: number;
  maxCallBytes: number;
  /** Send one call; resolves with the failed entries (by index); throws on a whole-call failure. */
  send(calls: readonly Envelope[], signal: AbortSignal): Promise<CallFailures>;
}

/** Send `batch` as calls within the service's limits; see the module invariants. */
export async function putInCalls(batch: readonly Envelope[], plan: BatchPutPlan, signal: AbortSignal): Promise<PutResult> {
  const failed: Array<{ envelope: Envelope; error: SpillwayError }> = [];
  const fitting: Envelope[] = [];
  for (const envelope of batch) {
    const size = plan.entrySize(envelope);
    if (size <= plan.maxEntryBytes) fitting.push(envelope);
    else failed.push({ envelope, error: tooLarge(envelope, size, plan) });
  }
  let down: SpillwayError | undefined;
  let sent = 0;
  for (const call of splitIntoCalls(fitting, plan.entrySize, plan.maxEntries, plan.maxCallBytes)) {
    if (down) {
      for (const envelope of call) failed.push({ envelope, error: down });
      continue;
    }
    try {
      const failures = await plan.send(call, signal);
      for (const [index, error] of failures) failed.push({ envelope: call[index] as Envelope, error });
    } catch (error) {
      down = classifyAwsError(error, plan.context);
      if (sent === 0) throw down;
      for (const envelope of call) failed.push({ envelope, error: down });
    }
    sent++;
  }
  return { failed };
}

function tooLarge(envelope: Envelope, size: number, plan: BatchPutPlan): SpillwayError {
  const where = plan.context.target ?? 'target';
  return new TargetRejectedError(
    `record ${envelope.id} takes ${size} bytes in ${where}, over its ${plan.maxEntryBytes}-byte limit per entry; it goes to the next tier (the spool takes any size)`,
    { ...plan.context, recordId: envelope.id },
  );
}
