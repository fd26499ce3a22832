/**
 * The drain lease against the real Redis at 127.0.0.1:6379 (unique key
 * prefixes): one holder at a time, a holder whose lease lapsed can no longer
 * move the shared checkpoint (fencing), and a lease not renewed is taken over.
 */
import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { createReconcilerLeases, createSharedDedupeStore } from '../../adapters/redis/reconciler-lease.js';
import type { CheckpointStore } from '../../src/contracts/index.js';
import { DrainCoordinator, routeCheckpoints } from '../../src/reconciler/coordination.js';
import { silentLogger } from '../helpers/bus-parts.js';
import { deleteRedisKeys, REDIS_URL } from '../helpers/coordinated-producers.js';
import { waitFor } from '../helpers/emulators.js';
import { uniquePrefix } from '../helpers/redis-fixtures.js';

const prefixes: string[] = [];
const coordinators: DrainCoordinator[] = [];
afterAll(async () => {
  for (const c of coordinators) await c.close().catch(() => undefined);
  await deleteRedisKeys(prefixes);
});

const FALLBACK = 'kinesis:us-west-2:orders';
const KEY = `orphans:${FALLBACK}/shardId-000000000000`;

function memoryStore(): CheckpointStore {
  const map = new Map<string, string>();
  return { get: async (k) => map.get(k), set: async (k, v) => void map.set(k, v), close: async () => undefined };
}

function coordinator(prefix: string, owner: string, leaseMs: number, contend = false): { c: DrainCoordinator; checkpoints: CheckpointStore; acquired: string[] } {
  const acquired: string[] = [];
  const c = new DrainCoordinator({ leases: createReconcilerLeases({ url: REDIS_URL, keyPrefix: prefix, owner }), leaseMs, logger: silentLogger, contend, onAcquired: (f) => acquired.push(f) });
  coordinators.push(c);
  return { c, checkpoints: routeCheckpoints(memoryStore(), c, [FALLBACK], 'orphans:'), acquired };
}

const listed = async () => [{ id: `${FALLBACK}/shardId-000000000000`, next: async () => undefined }];

describe('drain lease', () => {
  it('one holder at a time; a holder whose lease lapsed cannot move the shared checkpoint', async () => {
    const prefix = `${uniquePrefix('fence')}:`;
    prefixes.push(prefix);
    const a = coordinator(prefix, 'a', 3_000);
    const b = coordinator(prefix, 'b', 3_000);
    expect(await a.c.sourcesOf(FALLBACK, listed)).toHaveLength(1);
    expect(await b.c.sourcesOf(FALLBACK, listed)).toHaveLength(0);
    // The first drain under a new lease checks the primary; one that completed clears that, one that failed does not.
    expect(a.c.primaryCheckNeeded()).toBe(true);
    a.c.drained(false);
    await a.c.sourcesOf(FALLBACK, listed);
    expect(a.c.primaryCheckNeeded()).toBe(true);
    a.c.drained(true);
    await a.c.sourcesOf(FALLBACK, listed);
    expect(a.c.primaryCheckNeeded()).toBe(false);
    await a.checkpoints.set(KEY, '100');

    // A pauses past its expiry (the lease key lapses), and B takes the fallback over.
    const redis = new Redis(REDIS_URL);
    try {
      await redis.del(`${prefix}lease:${FALLBACK}`);
      expect(await b.c.sourcesOf(FALLBACK, listed)).toHaveLength(1);
      await b.checkpoints.set(KEY, '200');
      // A wakes up and commits what it read under its old lease: refused, and B's position stands.
      await expect(a.checkpoints.set(KEY, '150')).rejects.toThrow(/no longer held/);
      expect(await redis.hget(`${prefix}checkpoints`, KEY)).toBe('200');
      expect(await a.checkpoints.get(KEY)).toBe('200');
      expect(b.c.primaryCheckNeeded()).toBe(true);
      // A's next renewal finds the lease gone and drops it locally.
      await waitFor(async () => a.c.holding.length === 0, { timeoutMs: 10_000, intervalMs: 50, message: 'A to notice it lost the lease' });
    } finally {
      redis.disconnect();
    }
    // Keys of other sources stay local, untouched by the lease.
    await a.checkpoints.set('kinesis:us-west-2:orders/shardId-000000000000', 'mine');
    expect(await a.checkpoints.get('kinesis:us-west-2:orders/shardId-000000000000')).toBe('mine');
  });

  it('a renewed lease is never taken over, and a clean close hands it over at once', async () => {
    const prefix = `${uniquePrefix('takeover')}:`;
    prefixes.push(prefix);
    const leaseMs = 1_000;
    const a = coordinator(prefix, 'a', leaseMs);
    expect(await a.c.sourcesOf(FALLBACK, listed)).toHaveLength(1);
    const b = coordinator(prefix, 'b', leaseMs, true);
    expect(await b.c.sourcesOf(FALLBACK, listed)).toHaveLength(0);
    // While A renews, B never gets it (two full lease periods).
    const until = Date.now() + 2 * leaseMs;
    await waitFor(async () => Date.now() > until, { timeoutMs: 10_000, intervalMs: 100, message: 'two lease periods' });
    expect(b.acquired).toEqual([]);
    expect(a.c.holding).toEqual([FALLBACK]);
    await a.c.close();
    await waitFor(async () => b.acquired.length === 1, { timeoutMs: 5_000, intervalMs: 20, message: 'B to take the lease after A released it' });
    expect(b.c.holding).toEqual([FALLBACK]);
  });
});

describe('shared dedupe window', () => {
  it('an id one process marked drained is filtered out for another, for the ttl given', async () => {
    const keyPrefix = `${uniquePrefix('shared-dedupe')}:`;
    prefixes.push(keyPrefix);
    const a = createSharedDedupeStore({ url: REDIS_URL, keyPrefix, owner: 'a' });
    const b = createSharedDedupeStore({ url: REDIS_URL, keyPrefix, owner: 'b' });
    const redis = new Redis(REDIS_URL);
    try {
      await a.markSeen(['id-1', 'id-2'], 60_000);
      expect(await b.filterUnseen(['id-0', 'id-1', 'id-2', 'id-3'])).toEqual(['id-0', 'id-3']);
      const ttl = await redis.pttl(`${keyPrefix}id-1`);
      expect(ttl).toBeGreaterThan(0);
      expect(ttl).toBeLessThanOrEqual(60_000);
    } finally {
      redis.disconnect();
      await Promise.all([a.close(), b.close()]);
    }
  });
});
