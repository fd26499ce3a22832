/**
 * Producers sharing one secondary stream, coordinated through a Redis lease
 * per fallback (real Redis at 127.0.0.1:6379, unique key prefixes; two
 * kinesalite regions behind fault proxies): one reconciler drains the
 * fallback for every producer, including one that never came back, and every
 * id reaches the primary exactly once. Without coordination the records of a
 * producer that never came back stay on the fallback (`spillway drain --orphans`).
 */
import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import type { Bus } from '../../src/bus/bus.js';
import { ensureStream } from '../../src/drill/kinesis-admin.js';
import type { ReconcileSummary } from '../../src/events/bus-events.js';
import { countRedisKeys, deleteRedisKeys, REDIS_URL, type SharedState, startProducers } from '../helpers/coordinated-producers.js';
import { uniqueName, waitFor } from '../helpers/emulators.js';
import { uniquePrefix } from '../helpers/redis-fixtures.js';
import { idCounts, useTwoRegions } from '../helpers/two-regions.js';

const regions = useTwoRegions('kinesalite');
const cleanup: Array<() => Promise<unknown>> = [];
const prefixes: string[] = [];
afterAll(async () => {
  for (const step of cleanup.reverse()) await step().catch(() => undefined);
  await deleteRedisKeys(prefixes);
});

const PER_PRODUCER = 100;

/** Every producer sends PER_PRODUCER records while the primary refuses; all land on the shared secondary. */
async function sendDuringOutage(buses: readonly Bus[]): Promise<string[]> {
  regions.east.proxy.setFault({ mode: 'refuse' });
  const sent: string[] = [];
  for (const [p, bus] of buses.entries()) {
    const results = await bus.sendBatch(Array.from({ length: PER_PRODUCER }, (_, i) => ({ partitionKey: `p${p}-k${i % 9}`, data: { p, i } })));
    expect(results.every((r) => r.ok && r.landedOn.tier === 'secondary')).toBe(true);
    sent.push(...results.map((r) => (r.ok ? r.id : '')));
  }
  regions.east.proxy.setFault({ mode: 'none' });
  return sent;
}

/** Reconcile every bus at once until a round writes nothing and fails nowhere; each bus's summaries. */
async function drainAll(buses: readonly Bus[]): Promise<ReconcileSummary[][]> {
  const summaries: ReconcileSummary[][] = buses.map(() => []);
  await waitFor(
    async () => {
      const runs = await Promise.all(buses.map((b) => b.reconcile()));
      runs.forEach((s, i) => summaries[i]?.push(s));
      return runs.every((s) => !s.error && s.written === 0 && s.unavailable.length === 0);
    },
    { timeoutMs: 60_000, intervalMs: 100, message: 'the producers to drain the shared fallback' },
  );
  return summaries;
}

async function streamPair(): Promise<string> {
  const stream = uniqueName();
  await Promise.all([ensureStream(regions.east.admin, stream, 2), ensureStream(regions.west.admin, stream, 2)]);
  return stream;
}

function shared(withRedisDedupe: boolean): SharedState {
  const coordinationPrefix = `${uniquePrefix('coord')}:`;
  const dedupePrefix = `${uniquePrefix('dedupe')}:`;
  prefixes.push(coordinationPrefix, dedupePrefix);
  return { coordinationPrefix, ...(withRedisDedupe ? { dedupePrefix } : {}) };
}

describe('coordinated producers sharing one fallback', () => {
  const cases: Array<[number, boolean]> = [
    [2, true],
    [4, true],
    [2, false],
  ];
  for (const [count, redisDedupe] of cases) {
    it(`${count} producers, ${redisDedupe ? 'Redis' : 'disk'} dedupe: one holder drains every producer's records, one never came back; each id once`, async () => {
      const stream = await streamPair();
      const state = shared(redisDedupe);
      const buses = await startProducers(regions, count, stream, state, cleanup);
      const sent = await sendDuringOutage(buses);
      // The last producer never comes back: closed before any drain.
      const gone = buses.pop() as Bus;
      await gone.close();

      const summaries = await drainAll(buses);

      const counts = idCounts(await regions.read(regions.east, stream));
      expect(counts.size).toBe(PER_PRODUCER * count);
      expect(sent.filter((id) => counts.get(id) !== 1)).toEqual([]);
      // One holder wrote everything; nobody filtered by producer.
      const writers = summaries.filter((runs) => runs.some((s) => s.written > 0));
      expect(writers.length).toBe(1);
      expect(summaries.flat().reduce((n, s) => n + s.otherProducers, 0)).toBe(0);
      const redis = new Redis(REDIS_URL);
      try {
        const leaseKey = `${state.coordinationPrefix}lease:kinesis:${regions.west.name}:${stream}`;
        expect(await redis.get(leaseKey)).toMatch(/^p-[0-9a-f]+@.+\|\d+$/);
        expect(await redis.hlen(`${state.coordinationPrefix}checkpoints`)).toBeGreaterThan(0);
      } finally {
        redis.disconnect();
      }
      // With the shared window, every drained id is remembered in Redis (and nothing went to a disk journal instead).
      if (state.dedupePrefix) expect(await countRedisKeys(state.dedupePrefix)).toBe(PER_PRODUCER * count);
    }, 120_000);
  }

  it('without coordination, the records of a producer that never came back stay on the fallback', async () => {
    const stream = await streamPair();
    const buses = await startProducers(regions, 2, stream, {}, cleanup);
    const sent = await sendDuringOutage(buses);
    await (buses.pop() as Bus).close();
    await drainAll(buses);
    const counts = idCounts(await regions.read(regions.east, stream));
    expect(sent.slice(0, PER_PRODUCER).filter((id) => counts.get(id) !== 1)).toEqual([]);
    expect(sent.slice(PER_PRODUCER).filter((id) => counts.has(id))).toEqual([]);
  }, 120_000);
});

