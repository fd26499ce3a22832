import type { DrainSource, Lease, SourceChunk, Spool } from '../contracts/index.js';

/** The spool as a drain source: a chunk is a lease, commit acknowledges it, abandon releases it. */
export function spoolAsSource(spool: Spool): DrainSource {
  const leases = new WeakMap<SourceChunk, Lease>();
  return {
    id: spool.id,
    async next(max) {
      const lease = await spool.lease(max);
      if (lease.envelopes.length === 0) return undefined;
      const chunk: SourceChunk = { envelopes: lease.envelopes, commit: () => spool.ack(lease) };
      leases.set(chunk, lease);
      return chunk;
    },
    ...(spool.scan ? { survey: (visit: Parameters<NonNullable<Spool['scan']>>[0], signal: AbortSignal) => (spool.scan as NonNullable<Spool['scan']>).call(spool, visit, signal) } : {}),
    async abandon(chunk) {
      const lease = leases.get(chunk);
      if (lease) await spool.release(lease);
    },
  };
}
