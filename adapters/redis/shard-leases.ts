/**
 * Shard leases in Redis for a consumer group, the way the Kinesis Client
 * Library keeps them in DynamoDB: per shard an owner, a counter (the fencing
 * token, incremented on every take-over) and an expiry; a lease not renewed
 * within the takeover time lapses and another worker takes it. Workers
 * announce themselves in a sorted set scored by expiry, so each can compute
 * its fair share.
 *
 * Invariants:
 * - acquire, renew, release and fenced checkpoint writes are Lua scripts,
 *   atomic in Redis: a lease has at most one holder, and a holder's token is
 *   larger than every earlier holder's;
 * - a checkpoint write through {@link ShardLeases.fencedCheckpoints} lands
 *   only while the writer still holds the lease with that token, so a worker
 *   that lost its shard can never move the shard's checkpoint.
 */
import type { Redis } from 'ioredis';
import type { CheckpointStore } from '../../src/contracts/stores.js';
import { TargetRejectedError, TransientError } from '../../src/errors/index.js';

/** Options for {@link createRedisShardLeases}. */
export interface RedisShardLeasesOptions {
  /** A connected client; the caller closes it. */
  redis: Redis;
  /** Key prefix for leases, e.g. `spillway:consumer:<group>:lease:`. */
  prefix: string;
  /** This worker's name. */
  owner: string;
  /** The checkpoint hash that fenced writes go to. */
  checkpointsKey: string;
}

const ACQUIRE = `
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
local token = redis.call('INCR', KEYS[2])
redis.call('SET', KEYS[1], ARGV[1] .. '|' .. token, 'PX', ARGV[2])
return token`;
const RENEW = `
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
redis.call('PEXPIRE', KEYS[1], ARGV[2])
return 1`;
const RELEASE = `
if redis.call('GET', KEYS[1]) == ARGV[1] then redis.call('DEL', KEYS[1]) end
return 1`;
const FENCED_SET = `
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
redis.call('HSET', KEYS[2], ARGV[2], ARGV[3])
return 1`;
const HEARTBEAT = `
redis.call('ZADD', KEYS[1], ARGV[2], ARGV[1])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ARGV[3])
return redis.call('ZCARD', KEYS[1])`;

/** The lease table of one group. */
export interface ShardLeases {
  heartbeat(ttlMs: number): Promise<number>;
  acquire(shard: string, ttlMs: number): Promise<number | undefined>;
  renew(shard: string, token: number, ttlMs: number): Promise<boolean>;
  release(shard: string, token: number): Promise<void>;
  /** Who holds a shard now, if anyone. */
  holder(shard: string): Promise<{ owner: string; token: number } | undefined>;
  fencedCheckpoints(shard: string, token: number): CheckpointStore;
  close(): Promise<void>;
}

/** Leases in Redis; Redis errors become {@link TransientError}. */
export function createRedisShardLeases(options: RedisShardLeasesOptions): ShardLeases {
  const { redis, prefix, owner, checkpointsKey } = options;
  const leaseKey = (shard: string): string => `${prefix}${shard}`;
  const held = (token: number): string => `${owner}|${token}`;
  const call = async <T>(what: string, fn: () => Promise<T>): Promise<T> => {
    try {
      return await fn();
    } catch (cause) {
      throw new TransientError(`could not ${what} in Redis (${prefix}*)`, { cause, target: 'redis' });
    }
  };
  return {
    heartbeat: (ttlMs) =>
      call('renew the worker heartbeat', async () => {
        const now = Date.now();
        return Number(await redis.eval(HEARTBEAT, 1, `${prefix}workers`, owner, String(now + ttlMs), String(now)));
      }),
    acquire: (shard, ttlMs) =>
      call(`acquire the lease of ${shard}`, async () => {
        const token = Number(await redis.eval(ACQUIRE, 2, leaseKey(shard), `${leaseKey(shard)}:token`, owner, String(ttlMs)));
        return token > 0 ? token : undefined;
      }),
    renew: (shard, token, ttlMs) => call(`renew the lease of ${shard}`, async () => Number(await redis.eval(RENEW, 1, leaseKey(shard), held(token), String(ttlMs))) === 1),
    release: (shard, token) => call(`release the lease of ${shard}`, async () => void (await redis.eval(RELEASE, 1, leaseKey(shard), held(token)))),
    holder: (shard) =>
      call(`read the lease of ${shard}`, async () => {
        const value = await redis.get(leaseKey(shard));
        if (!value) return undefined;
        const at = value.lastIndexOf('|');
        return { owner: value.slice(0, at), token: Number(value.slice(at + 1)) };
      }),
    fencedCheckpoints(shard, token) {
      return {
        get: (field) => call(`read checkpoint ${field}`, async () => (await redis.hget(checkpointsKey, field)) ?? undefined),
        async set(field, value) {
          const ok = await call(`write checkpoint ${field}`, async () => Number(await redis.eval(FENCED_SET, 2, leaseKey(shard), checkpointsKey, held(token), field, value)));
          if (ok !== 1) {
            throw new TargetRejectedError(`the lease of ${shard} (token ${token}) is no longer held by ${owner}: another worker took the shard over, so this checkpoint was not written`, { target: 'redis' });
          }
        },
        close: async () => undefined,
      };
    },
    async close() {
      await redis.zrem(`${prefix}workers`, owner).catch(() => undefined);
    },
  };
}
