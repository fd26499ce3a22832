import type { Spool, Target } from '../contracts/index.js';
import type { Envelope } from '../envelope/index.js';
import { hasCode, type SpillwayError, SpoolFullError } from '../errors/index.js';

/**
 * A spool seen as a target of the chain: a put is an append, and it resolves
 * only once the records are durable. The router puts a breaker in front of
 * every spool but the last; the last is always tried, and its own errors
 * (SpoolFullError, …) reach the caller. A spool takes a record of any size.
 *
 * Sends that queue up while a full spool blocks reach it as one batch; a
 * batch larger than the spool could ever hold is appended in halves (in
 * order), so each record waits for room or is refused on its own merits.
 */
export function spoolAsTarget(spool: Spool): Target {
  return {
    id: spool.id,
    maxBatchRecords: 10_000,
    maxBatchBytes: 64 * 1_048_576,
    maxRecordBytes: Number.MAX_SAFE_INTEGER,
    async put(batch) {
      const failed = await appendFitting(spool, batch);
      // Nothing stored: the whole call failed, as any target reports it.
      if (failed.length > 0 && failed.length === batch.length) throw (failed[0] as Failed[number]).error;
      return { failed };
    },
    async probe() {
      await spool.stats();
    },
    async close() {
      await spool.close();
    },
  };
}

type Failed = Array<{ envelope: Envelope; error: SpillwayError }>;

/**
 * Append `batch`; when the spool says it is too large to ever fit, append its
 * halves one after the other. Returns the records that were not stored: once
 * an append fails for another reason (full, closed), the rest are not tried.
 */
async function appendFitting(spool: Spool, batch: readonly Envelope[]): Promise<Failed> {
  try {
    await spool.append(batch);
    return [];
  } catch (error) {
    const tooLarge = hasCode(error, SpoolFullError.code) && (error as SpoolFullError).reason === 'too-large';
    if (batch.length < 2 || !tooLarge) return batch.map((envelope) => ({ envelope, error: error as SpillwayError }));
    const half = Math.ceil(batch.length / 2);
    const first = await appendFitting(spool, batch.slice(0, half));
    if (first.length > 0) return [...first, ...batch.slice(half).map((envelope) => ({ envelope, error: (first[0] as Failed[number]).error }))];
    return appendFitting(spool, batch.slice(half));
  }
}
