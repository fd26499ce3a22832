/**
 * The spool chain end to end: a bus with `spool: [redis, disk]` over two
 * kinesalite regions behind fault proxies, a private redis-server with
 * `appendonly yes` + `appendfsync always`, and a disk spool. Load goes in
 * phases (healthy, primary down, both regions down, Redis down too, Redis
 * restarted and SIGKILLed mid-load and restarted again, recovery); every
 * acknowledged record is counted by where it landed, and after the
 * reconciler's drain each one must be in the primary exactly once, with both
 * spools empty. Nothing is mocked.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { Bus, BatchItemResult } from '../../src/bus/bus.js';
import { waitFor } from '../helpers/emulators.js';
import { startRedisServer, type RedisServer } from '../helpers/redis-server.js';
import { idCounts, useTwoRegions } from '../helpers/two-regions.js';

/** Where an acknowledged record landed, by target. */
type Place = 'primary' | 'secondary' | 'redis' | 'disk';

interface Tally {
  /** Every acknowledged id, with where it landed. */
  acked: Map<string, Place>;
  /** Records offered to the bus. */
  offered: number;
  /** Records whose send failed (must stay 0: the disk spool is always there). */
  failed: BatchItemResult[];
}

const cleanups: Array<() => Promise<unknown>> = [];
afterAll(async () => {
  for (const fn of cleanups.splice(0).reverse()) await fn().catch(() => undefined);
});

function placeOf(result: BatchItemResult & { ok: true }): Place {
  if (result.landedOn.tier !== 'spool') return result.landedOn.tier;
  return result.landedOn.target.startsWith('redis:') ? 'redis' : 'disk';
}

/** Send `count` records of `phase` in one sendBatch; returns how many landed where. */
async function sendPhase(bus: Bus, tally: Tally, phase: string, count: number): Promise<Record<Place, number>> {
  const batch = Array.from({ length: count }, (_, i) => ({ partitionKey: `customer-${i % 40}`, data: { phase, i } }));
  tally.offered += count;
  const landed: Record<Place, number> = { primary: 0, secondary: 0, redis: 0, disk: 0 };
  for (const result of await bus.sendBatch(batch)) {
    if (!result.ok) {
      tally.failed.push(result);
      continue;
    }
    const place = placeOf(result);
    tally.acked.set(result.id, place);
    landed[place] += 1;
  }
  return landed;
}

/** Concurrent loops of small sendBatch calls until stopped; counts what landed where. */
function startLoad(bus: Bus, tally: Tally, phase: string, workers = 4) {
  const landed: Record<Place, number> = { primary: 0, secondary: 0, redis: 0, disk: 0 };
  let running = true;
  const loop = async (w: number): Promise<void> => {
    for (let round = 0; running; round += 1) {
      const got = await sendPhase(bus, tally, `${phase}-w${w}-r${round}`, 10);
      for (const place of Object.keys(got) as Place[]) landed[place] += got[place];
    }
  };
  const loops = Array.from({ length: workers }, (_, w) => loop(w));
  return {
    landed,
    async stop() {
      running = false;
      await Promise.all(loops);
    },
  };
}

describe('spool chain [redis, disk] end to end (kinesalite, private redis-server)', () => {
  const regions = useTwoRegions('kinesalite');

  it('keeps every acknowledged record through both regions down, Redis down, a Redis SIGKILL and restart, and recovery', async () => {
    const redis: RedisServer = await startRedisServer({ appendfsync: 'always' });
    cleanups.push(() => redis.cleanup());
    const diskDir = await mkdtemp(join(tmpdir(), 'spillway-chain-'));
    cleanups.push(() => rm(diskDir, { recursive: true, force: true }));
    const { bus, stream } = await regions.bus({
      spool: [
        { kind: 'redis', url: redis.url, keyPrefix: 'chain', durability: 'aof', commandTimeoutMs: 1_000, connectTimeoutMs: 500 },
        { kind: 'disk', dir: diskDir },
      ],
    });
    const tally: Tally = { acked: new Map(), offered: 0, failed: [] };

    // Healthy: the primary takes everything.
    expect(await sendPhase(bus, tally, 'healthy', 300)).toEqual({ primary: 300, secondary: 0, redis: 0, disk: 0 });

    // Primary down: the secondary region.
    regions.east.proxy.setFault({ mode: 'refuse' });
    expect(await sendPhase(bus, tally, 'primary-down', 300)).toEqual({ primary: 0, secondary: 300, redis: 0, disk: 0 });

    // Both regions down: the Redis spool, the first of the chain.
    regions.west.proxy.setFault({ mode: 'refuse' });
    const bothDown = await sendPhase(bus, tally, 'both-down', 300);
    expect(bothDown).toEqual({ primary: 0, secondary: 0, redis: 300, disk: 0 });

    // Redis down too: the disk spool.
    await redis.stop();
    expect(await sendPhase(bus, tally, 'redis-down', 300)).toEqual({ primary: 0, secondary: 0, redis: 0, disk: 300 });

    // Redis back: once its breaker lets a trial through, records land on Redis again.
    await redis.start();
    await waitFor(async () => (await sendPhase(bus, tally, 'redis-back', 20)).redis > 0, { timeoutMs: 20_000, intervalMs: 100, message: 'a send to land on the restarted Redis' });

    // Load on Redis; SIGKILL it mid-load: sends move to disk; then restart it and land on Redis once more.
    const load = startLoad(bus, tally, 'crash');
    await waitFor(() => load.landed.redis >= 200, { timeoutMs: 20_000, message: '200 records on Redis under load' });
    await redis.kill();
    const redisAtKill = load.landed.redis;
    await waitFor(() => load.landed.disk >= 100, { timeoutMs: 20_000, message: 'sends to move to disk once Redis is killed' });
    await redis.start();
    await waitFor(() => load.landed.redis >= redisAtKill + 100, { timeoutMs: 30_000, message: 'sends to land on the restarted Redis' });
    await load.stop();
    expect(load.landed.primary + load.landed.secondary).toBe(0);

    // Everything was acknowledged somewhere; count what each place holds before recovery.
    expect(tally.failed).toEqual([]);
    expect(tally.acked.size).toBe(tally.offered);
    const byPlace = { primary: 0, secondary: 0, redis: 0, disk: 0 };
    for (const place of tally.acked.values()) byPlace[place] += 1;
    expect(byPlace.redis).toBeGreaterThanOrEqual(300 + 200 + 100);
    expect(byPlace.disk).toBeGreaterThanOrEqual(300 + 100);
    const held = await bus.stats();
    const [redisStats, diskStats] = held.spool.spools;
    expect(redisStats?.id.startsWith('redis:')).toBe(true);
    // A record whose append was applied but unanswered when Redis died is also on disk: at least, never fewer.
    expect(redisStats?.records).toBeGreaterThanOrEqual(byPlace.redis);
    expect(diskStats?.records).toBe(byPlace.disk);

    // Recovery: both regions back, the reconciler drains the secondary and both spools into the primary.
    regions.east.proxy.setFault({ mode: 'none' });
    regions.west.proxy.setFault({ mode: 'none' });
    await regions.drain(bus, 120_000);

    const counts = idCounts(await regions.read(regions.east, stream));
    const notOnce = [...tally.acked.keys()].filter((id) => counts.get(id) !== 1);
    expect(notOnce).toEqual([]);
    expect(counts.size).toBe(tally.acked.size);
    const after = await bus.stats();
    expect(after.spool.spools.map((s) => s.records)).toEqual([0, 0]);
    expect(await redis.admin().xlen('{chain}:spool')).toBe(0); // read from the server itself, not the spool's stats
  }, 180_000);
});
