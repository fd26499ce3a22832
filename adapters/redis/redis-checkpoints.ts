/**
 * A {@link CheckpointStore} in Redis: one hash per consumer group, a field
 * per shard. Shared by every process of the group; writes that must be
 * fenced by a shard lease go through `shard-leases.ts` instead.
 */
import type { Redis } from 'ioredis';
import type { CheckpointStore } from '../../src/contracts/stores.js';
import { TransientError } from '../../src/errors/index.js';

/** Options for {@link createRedisCheckpointStore}. */
export interface RedisCheckpointStoreOptions {
  /** A connected client; the caller closes it. */
  redis: Redis;
  /** The hash holding the checkpoints, e.g. `spillway:consumer:<group>:checkpoints`. */
  key: string;
}

/** Checkpoints in one Redis hash; Redis errors become {@link TransientError}. */
export function createRedisCheckpointStore(options: RedisCheckpointStoreOptions): CheckpointStore {
  const { redis, key } = options;
  return {
    async get(field) {
      try {
        return (await redis.hget(key, field)) ?? undefined;
      } catch (cause) {
        throw new TransientError(`could not read checkpoint ${field} from Redis hash ${key}`, { cause, target: 'redis' });
      }
    },
    async set(field, value) {
      try {
        await redis.hset(key, field, value);
      } catch (cause) {
        throw new TransientError(`could not write checkpoint ${field} to Redis hash ${key}`, { cause, target: 'redis' });
      }
    },
    async close() {},
  };
}
