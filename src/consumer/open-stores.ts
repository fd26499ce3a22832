/**
 * Opens the consumer's state: checkpoints, the dedupe window, and (with
 * Redis) shard leases; disk by default, one process per directory.
 */
import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { createDiskCheckpointStore, createDiskDedupeStore } from '../../adapters/disk/index.js';
import { createRedisCheckpointStore } from '../../adapters/redis/redis-checkpoints.js';
import { createRedisDedupeStore } from '../../adapters/redis/redis-dedupe.js';
import { createRedisShardLeases } from '../../adapters/redis/shard-leases.js';
import type { CheckpointStore, DedupeStore } from '../contracts/stores.js';
import { ConfigError } from '../errors/index.js';
import type { ClaimingDedupeStore, ConsumerOptions, ShardLeaseStore } from './types.js';

/** The opened stores and how to close them. */
export interface ConsumerStores {
  checkpoints: CheckpointStore;
  dedupe: DedupeStore | ClaimingDedupeStore;
  leases?: ShardLeaseStore;
  /** The consumer's local directory (dead letters by default). */
  dir: string;
  close(): Promise<void>;
}

/** This process's default worker id. */
export function defaultWorkerId(): string {
  return `${hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`;
}

/** Open the stores named by `options.checkpoints` (options already validated). */
export async function openConsumerStores(options: ConsumerOptions, stateDir: string, workerId: string): Promise<ConsumerStores> {
  const place = options.checkpoints ?? { kind: 'disk' as const };
  const dir = place.kind === 'disk' && place.dir ? place.dir : join(stateDir, 'consumer', options.group);
  if (options.stores) return { ...options.stores, dir, close: async () => undefined };
  if (place.kind === 'redis') return openRedis(place.url, `${place.keyPrefix ?? 'spillway:consumer'}:${options.group}:`, workerId, dir);
  const checkpoints = await createDiskCheckpointStore({ dir: join(dir, 'checkpoints') });
  const dedupe = await createDiskDedupeStore({ dir: join(dir, 'dedupe') }).catch(async (error: unknown) => {
    await checkpoints.close();
    throw error;
  });
  return { checkpoints, dedupe, dir, close: async () => void (await Promise.allSettled([checkpoints.close(), dedupe.close()])) };
}

async function openRedis(url: string, prefix: string, workerId: string, dir: string): Promise<ConsumerStores> {
  const redis = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 2, enableOfflineQueue: true });
  try {
    await redis.connect();
  } catch (cause) {
    redis.disconnect();
    throw new ConfigError(`checkpoints.url: cannot connect to Redis at ${url}; start it or fix the URL`, { field: 'checkpoints.url', cause });
  }
  const checkpoints = createRedisCheckpointStore({ redis, key: `${prefix}checkpoints` });
  const dedupe = createRedisDedupeStore({ redis, prefix: `${prefix}seen:`, owner: workerId });
  const leases = createRedisShardLeases({ redis, prefix: `${prefix}lease:`, owner: workerId, checkpointsKey: `${prefix}checkpoints` });
  return {
    checkpoints,
    dedupe,
    leases,
    dir,
    async close() {
      await leases.close();
      redis.disconnect();
    },
  };
}
