/**
 * The consumer's dedupe window in Redis, shared by the processes of a group:
 * one key per id, `seen` for the dedupe TTL once handled, or
 * `claim:<owner>` for the claim time while a worker handles it.
 *
 * Invariants: `claim` is atomic per id (a Lua script): of two workers asking
 * for the same unclaimed id, exactly one gets it; a claim that is not turned
 * into `seen` expires by itself, so a worker that died mid-handler does not
 * hold an id for ever; `seen` always overwrites a claim.
 */
import type { Redis } from 'ioredis';
import { TransientError } from '../../src/errors/index.js';

/** Options for {@link createRedisDedupeStore}. */
export interface RedisDedupeStoreOptions {
  /** A connected client; the caller closes it. */
  redis: Redis;
  /** Key prefix for ids, e.g. `spillway:consumer:<group>:seen:`. */
  prefix: string;
  /** This worker's name, written into its claims. */
  owner: string;
}

const CLAIM = `
local out = {}
for i, key in ipairs(KEYS) do
  local v = redis.call('GET', key)
  if not v then
    redis.call('SET', key, ARGV[1], 'PX', ARGV[2])
    out[i] = 0
  elseif v == 'seen' then
    out[i] = 1
  elseif v == ARGV[1] then
    redis.call('PEXPIRE', key, ARGV[2])
    out[i] = 0
  else
    out[i] = 2
  end
end
return out`;

const VERDICTS = ['claimed', 'seen', 'busy'] as const;

/** The Redis dedupe store; Redis errors become {@link TransientError}. */
export function createRedisDedupeStore(options: RedisDedupeStoreOptions) {
  const { redis, prefix } = options;
  const claimValue = `claim:${options.owner}`;
  const fail = (what: string, cause: unknown): TransientError => new TransientError(`could not ${what} in Redis (${prefix}*)`, { cause, target: 'redis' });
  return {
    /** Ids not marked seen (a claim still counts as unseen). */
    async filterUnseen(ids: readonly string[]): Promise<string[]> {
      if (ids.length === 0) return [];
      try {
        const values = await redis.mget(ids.map((id) => prefix + id));
        return ids.filter((_, i) => values[i] !== 'seen');
      } catch (cause) {
        throw fail('read the dedupe window', cause);
      }
    },
    async markSeen(ids: readonly string[], ttlMs: number): Promise<void> {
      if (ids.length === 0) return;
      try {
        const pipeline = redis.pipeline();
        for (const id of ids) pipeline.set(prefix + id, 'seen', 'PX', ttlMs);
        const results = (await pipeline.exec()) ?? [];
        const failed = results.find(([error]) => error);
        if (failed) throw failed[0];
      } catch (cause) {
        throw fail('mark ids seen', cause);
      }
    },
    /** Claim each id for `claimMs` (see the invariants). */
    async claim(ids: readonly string[], claimMs: number): Promise<Array<'claimed' | 'seen' | 'busy'>> {
      if (ids.length === 0) return [];
      try {
        const out = (await redis.eval(CLAIM, ids.length, ...ids.map((id) => prefix + id), claimValue, String(claimMs))) as number[];
        return out.map((n) => VERDICTS[n] ?? 'busy');
      } catch (cause) {
        throw fail('claim ids', cause);
      }
    },
    async close(): Promise<void> {},
  };
}
