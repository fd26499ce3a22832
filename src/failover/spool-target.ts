import type { Spool, Target } from '../contracts/index.js';

/**
 * A spool seen as a target of the chain: a put is an append, and it resolves
 * only once the records are durable. The router puts a breaker in front of
 * every spool but the last; the last is always tried, and its own errors
 * (SpoolFullError, …) reach the caller. A spool takes a record of any size.
 */
export function spoolAsTarget(spool: Spool): Target {
  return {
    id: spool.id,
    maxBatchRecords: 10_000,
    maxBatchBytes: 64 * 1_048_576,
    maxRecordBytes: Number.MAX_SAFE_INTEGER,
    async put(batch) {
      await spool.append(batch);
      return { failed: [] };
    },
    async probe() {
      await spool.stats();
    },
    async close() {
      await spool.close();
    },
  };
}
