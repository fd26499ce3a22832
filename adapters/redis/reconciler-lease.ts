/**
 * Reconciler state shared in Redis by producers: drain leases of shared
 * fallbacks, and the dedupe window of drained ids.
 *
 * Drain leases of shared fallbacks, over the consumer's
 * shard-lease primitives (`shard-leases.ts`): per fallback an owner, a
 * fencing token incremented on every take-over and an expiry, and checkpoint
 * writes that land only while the writer's token is current. This file only
 * names the keys and owns the connection; the guarantees are those of
 * shard-leases.ts.
 *
 * Keys (under `keyPrefix`, default `spillway:reconciler:`):
 * `lease:<fallback>` (owner|token, PX leaseMs), `lease:<fallback>:token`
 * (the counter) and `checkpoints` (a hash: source checkpoint key → position).
 */
import { hostname } from 'node:os';
import { Redis } from 'ioredis';
import type { FallbackLeases } from '../../src/reconciler/coordination.js';
import { redisAddress } from './redis-connection.js';
import type { DedupeStore } from '../../src/contracts/stores.js';
import { createRedisDedupeStore } from './redis-dedupe.js';
import { createRedisShardLeases } from './shard-leases.js';

/** Options for {@link createReconcilerLeases}. */
export interface ReconcilerLeasesOptions {
  url: string;
  /** Default `spillway:reconciler:`. */
  keyPrefix?: string;
  /** This reconciler's name in the lease (default `<instanceId>@<host>:<pid>`). */
  owner: string;
  /** Longest a Redis command may take (default 2000 ms). */
  commandTimeoutMs?: number;
}

/** The default key prefix of drain leases and their checkpoints. */
export const DEFAULT_RECONCILER_PREFIX = 'spillway:reconciler:';

/** The owner name of this process for producer `instanceId`. */
export function leaseOwner(instanceId: string): string {
  return `${instanceId}@${hostname()}:${process.pid}`;
}

/** Leases over one new Redis connection, closed with them. */
export function createReconcilerLeases(options: ReconcilerLeasesOptions): FallbackLeases {
  const redis = connect(options.url, 'coordination.url', options.commandTimeoutMs);
  const prefix = options.keyPrefix ?? DEFAULT_RECONCILER_PREFIX;
  const leases = createRedisShardLeases({ redis, prefix: `${prefix}lease:`, owner: options.owner, checkpointsKey: `${prefix}checkpoints` });
  return {
    acquire: (fallback, ttlMs) => leases.acquire(fallback, ttlMs),
    renew: (fallback, token, ttlMs) => leases.renew(fallback, token, ttlMs),
    release: (fallback, token) => leases.release(fallback, token),
    fencedCheckpoints: (fallback, token) => leases.fencedCheckpoints(fallback, token),
    async close() {
      await leases.close();
      redis.disconnect();
    },
  };
}

/** A client that fails commands after a bounded time and reconnects in the background. */
function connect(url: string, field: string, commandTimeoutMs = 2_000): Redis {
  redisAddress(url, field);
  const redis = new Redis(url, { maxRetriesPerRequest: 1, commandTimeout: commandTimeoutMs, connectTimeout: 2_000, retryStrategy: (attempt) => Math.min(attempt * 200, 2_000) });
  redis.on('error', () => undefined); // surfaced per command as TransientError
  return redis;
}

/** Options for {@link createSharedDedupeStore}. */
export interface SharedDedupeOptions {
  url: string;
  /** Key prefix of the ids (one key per id). */
  keyPrefix: string;
  /** This process's name (written into the consumer's claims; unused by the reconciler). */
  owner: string;
  commandTimeoutMs?: number;
}

/**
 * The dedupe window in Redis (`redis-dedupe.ts`), shared by every producer
 * that names the same url and prefix, so an id one reconciler wrote is not
 * written by another; ids expire after the ttl each `markSeen` gives.
 */
export function createSharedDedupeStore(options: SharedDedupeOptions): DedupeStore {
  const redis = connect(options.url, 'dedupe.url', options.commandTimeoutMs);
  const store = createRedisDedupeStore({ redis, prefix: options.keyPrefix, owner: options.owner });
  return {
    filterUnseen: (ids) => store.filterUnseen(ids),
    markSeen: (ids, ttlMs) => store.markSeen(ids, ttlMs),
    async close() {
      redis.disconnect();
    },
  };
}
