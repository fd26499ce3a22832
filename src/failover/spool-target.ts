import type { Spool, Target } from '../contracts/index.js';

/**
 * The spool seen as the last target of the chain: a put is an append, and it
 * resolves only once the records are durable. It has no breaker: the spool is
 * always tried, and its own errors (SpoolFullError, …) reach the caller.
 */
export function spoolAsTarget(spool: Spool): Target {
  return {
    id: spool.id,
    maxBatchRecords: 10_000,
    maxBatchBytes: 64 * 1_048_576,
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
