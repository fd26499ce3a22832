/**
 * Shard leases, fenced checkpoints and the claiming dedupe window against the
 * real Redis at 127.0.0.1:6379 (unique key prefix per test, removed after).
 * Expiry is real time (a second at most), or forced with PEXPIRE.
 */
import { Redis } from 'ioredis';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { createRedisDedupeStore } from '../../adapters/redis/redis-dedupe.js';
import { createRedisShardLeases } from '../../adapters/redis/shard-leases.js';
import { uniqueName, waitFor } from '../helpers/emulators.js';

describe('Redis shard leases and dedupe', () => {
  const redis = new Redis('redis://127.0.0.1:6379');
  const prefixes: string[] = [];
  const prefix = (): string => {
    const p = uniqueName('spillway-lease-test');
    prefixes.push(p);
    return p;
  };
  afterEach(async () => {
    for (const p of prefixes.splice(0)) {
      const keys = await redis.keys(`${p}*`);
      if (keys.length > 0) await redis.del(...keys);
    }
  });
  afterAll(() => redis.quit());

  it('gives a lease to one worker, takes it over after expiry with a larger token, and fences the old holder', async () => {
    const p = prefix();
    const opts = { redis, prefix: `${p}:lease:`, checkpointsKey: `${p}:checkpoints` };
    const a = createRedisShardLeases({ ...opts, owner: 'a' });
    const b = createRedisShardLeases({ ...opts, owner: 'b' });
    const tokenA = await a.acquire('s1', 60_000);
    expect(tokenA).toBe(1);
    expect(await b.acquire('s1', 60_000)).toBeUndefined();
    const fencedA = a.fencedCheckpoints('s1', tokenA!);
    await fencedA.set('s1', '100');
    expect(await redis.hget(`${p}:checkpoints`, 's1')).toBe('100');

    // A stops renewing: its lease lapses (expiry forced here rather than waited for), and B takes over.
    await redis.pexpire(`${p}:lease:s1`, 1);
    const tokenB = await waitFor(() => b.acquire('s1', 5_000), { timeoutMs: 2_000, message: 'the lease to lapse' });
    expect(tokenB).toBe(2);
    expect(await a.renew('s1', tokenA!, 60)).toBe(false);
    await expect(fencedA.set('s1', '50')).rejects.toThrow(/no longer held/);
    expect(await redis.hget(`${p}:checkpoints`, 's1')).toBe('100');
    await b.fencedCheckpoints('s1', tokenB).set('s1', '200');
    expect(await redis.hget(`${p}:checkpoints`, 's1')).toBe('200');
    expect(await b.holder('s1')).toEqual({ owner: 'b', token: 2 });
    await b.release('s1', tokenB);
    expect(await a.acquire('s1', 60)).toBe(3);
  });

  it('counts live workers by heartbeat', async () => {
    const p = prefix();
    const opts = { redis, prefix: `${p}:lease:`, checkpointsKey: `${p}:checkpoints` };
    const a = createRedisShardLeases({ ...opts, owner: 'a' });
    const b = createRedisShardLeases({ ...opts, owner: 'b' });
    expect(await a.heartbeat(1_000)).toBe(1);
    expect(await b.heartbeat(5_000)).toBe(2);
    await waitFor(async () => (await b.heartbeat(5_000)) === 1, { timeoutMs: 5_000, message: 'a’s heartbeat to lapse' });
  });

  it('claims an id for one worker at a time; a lapsed claim can be taken; seen ids stay seen', async () => {
    const p = prefix();
    const a = createRedisDedupeStore({ redis, prefix: `${p}:seen:`, owner: 'a' });
    const b = createRedisDedupeStore({ redis, prefix: `${p}:seen:`, owner: 'b' });
    expect(await a.claim(['x', 'y'], 1_000)).toEqual(['claimed', 'claimed']);
    expect(await b.claim(['x', 'y', 'z'], 60_000)).toEqual(['busy', 'busy', 'claimed']);
    await a.markSeen(['x'], 60_000);
    expect(await b.claim(['x'], 60_000)).toEqual(['seen']);
    expect(await b.filterUnseen(['x', 'y', 'z'])).toEqual(['y', 'z']);
    // a never finished y (it died): once its claim lapses, b takes it.
    await waitFor(async () => (await b.claim(['y'], 5_000))[0] === 'claimed', { timeoutMs: 5_000, message: 'a’s claim on y to lapse' });
  });
});
