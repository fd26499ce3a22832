import { describe, expect, it } from 'vitest';
import { createStamper, type Envelope } from '../../src/envelope/index.js';
import { ConfigError, TransientError } from '../../src/errors/index.js';
import { SendBatcher } from '../../src/failover/batcher.js';
import { recordBytes } from '../../src/failover/chunk.js';
import { laneOf } from '../../src/failover/lanes.js';
import type { DispatchOutcome } from '../../src/failover/router.js';
import { memoryBus } from '../helpers/bus-parts.js';

const stamp = createStamper();
const ok = (batch: readonly Envelope[]): DispatchOutcome[] => batch.map((e) => ({ ok: true, id: e.id, landedOn: { tier: 'primary', target: 'mem' } }));
const delay = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * A slow target: every third call takes 15 ms, the others answer on the next
 * timer turn, so a batch dispatched later often lands before an earlier one.
 * Records the order records land in and how many calls overlap.
 */
function slowTarget() {
  const landed: Envelope[] = [];
  const state = { calls: 0, active: 0, maxActive: 0, sizes: [] as number[] };
  const dispatch = async (batch: readonly Envelope[]): Promise<DispatchOutcome[]> => {
    const call = state.calls++;
    state.sizes.push(batch.length);
    state.active++;
    state.maxActive = Math.max(state.maxActive, state.active);
    await delay(call % 3 === 0 ? 15 : 0);
    landed.push(...batch);
    state.active--;
    return ok(batch);
  };
  return { dispatch, landed, state };
}

function byKey(envelopes: readonly Envelope[]): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const e of envelopes) out.set(e.partitionKey, [...(out.get(e.partitionKey) ?? []), e.id]);
  return out;
}

describe('send batcher lanes', () => {
  it('keeps per-key order under concurrency while several batches are in flight', async () => {
    const target = slowTarget();
    const batcher = new SendBatcher(target.dispatch, { lanes: 8, maxBatchRecords: 7 });
    const sent: Envelope[] = [];
    const pending: Array<Promise<unknown>> = [];
    // Waves of sends, interleaved across 40 keys; later waves arrive while earlier batches are in flight.
    for (let wave = 0; wave < 12; wave++) {
      for (let i = 0; i < 60; i++) {
        const e = stamp({ partitionKey: `key-${(i * 7 + wave) % 40}`, data: { wave, i } });
        sent.push(e);
        pending.push(batcher.submit(e));
      }
      await delay(1);
    }
    await Promise.all(pending);
    await batcher.flush();
    expect(target.landed).toHaveLength(sent.length);
    expect(byKey(target.landed)).toEqual(byKey(sent));
    expect(target.state.maxActive).toBeGreaterThan(1);
    expect(target.state.maxActive).toBeLessThanOrEqual(8);
    expect(Math.max(...target.state.sizes)).toBeLessThanOrEqual(7);
  });

  it('keeps per-key order end to end through the router, with several puts in flight on the primary', async () => {
    const { bus, primary } = memoryBus({ batching: { lanes: 4, maxBatchRecords: 5 } });
    const put = primary.put.bind(primary);
    let active = 0;
    let maxActive = 0;
    primary.put = async (batch) => {
      active++;
      maxActive = Math.max(maxActive, active);
      await delay(primary.calls % 2 === 0 ? 10 : 0);
      active--;
      return put(batch);
    };
    const inputs = Array.from({ length: 200 }, (_, i) => ({ partitionKey: `k${i % 13}`, data: i }));
    const results = await bus.sendBatch(inputs);
    expect(results.every((r) => r.ok && r.landedOn.tier === 'primary')).toBe(true);
    const sentIds = new Map<string, string[]>();
    inputs.forEach((input, i) => sentIds.set(input.partitionKey, [...(sentIds.get(input.partitionKey) ?? []), (results[i] as { id: string }).id]));
    expect(byKey(primary.stored)).toEqual(sentIds);
    expect(maxActive).toBeGreaterThan(1);
    await bus.close();
  });

  it('fills batches by bytes as well as count, and sends an oversized record alone', async () => {
    const target = slowTarget();
    const small = Array.from({ length: 30 }, (_, i) => stamp({ partitionKey: 'same', data: new Uint8Array(100).fill(i) }));
    const size = recordBytes(small[0] as Envelope);
    const batcher = new SendBatcher(target.dispatch, { lanes: 1, maxBatchRecords: 500, maxBatchBytes: size * 4 });
    const big = stamp({ partitionKey: 'same', data: new Uint8Array(size * 10) });
    await Promise.all([...small.slice(0, 10), big, ...small.slice(10)].map((e) => batcher.submit(e)));
    expect(target.state.sizes).toEqual([4, 4, 2, 1, 4, 4, 4, 4, 4]);
  });

  it('makes submit wait once maxQueuedRecords are waiting, and keeps each key in order across the wait', async () => {
    let release: () => void = () => {};
    const gate = new Promise<void>((resolve) => (release = resolve));
    const landed: Envelope[] = [];
    const batcher = new SendBatcher(
      async (batch) => {
        await gate;
        landed.push(...batch);
        return ok(batch);
      },
      { lanes: 2, maxBatchRecords: 3, maxQueuedRecords: 10 },
    );
    const sent = Array.from({ length: 40 }, (_, i) => stamp({ partitionKey: `k${i % 3}`, data: i }));
    const pending = sent.map((e) => batcher.submit(e));
    await delay(5);
    // At most two batches of 3 in flight and 10 waiting in the lanes: the rest wait for room.
    expect(batcher.queued).toBe(40);
    expect(batcher.waitingForRoom).toBeGreaterThanOrEqual(40 - 10 - 6);
    expect(landed).toHaveLength(0);
    release();
    await Promise.all(pending);
    expect(landed).toHaveLength(40);
    expect(byKey(landed)).toEqual(byKey(sent));
  });

  it('rejects every record of a batch whose dispatch throws, and carries on with the next batch', async () => {
    let calls = 0;
    const batcher = new SendBatcher(
      async (batch) => {
        if (calls++ === 0) throw new TransientError('down');
        return ok(batch);
      },
      { lanes: 4 },
    );
    const first = await Promise.allSettled(['a', 'b', 'c', 'd', 'e'].map((k) => batcher.submit(stamp({ partitionKey: k, data: k }))));
    expect(first.map((o) => o.status)).toEqual(Array(5).fill('rejected'));
    const second = await Promise.allSettled(['a', 'b', 'c'].map((k) => batcher.submit(stamp({ partitionKey: k, data: k }))));
    expect(second.map((o) => o.status)).toEqual(Array(3).fill('fulfilled'));
    expect(calls).toBe(2);
    expect(batcher.queued).toBe(0);
  });

  it('gathers the records of several idle lanes into one call', async () => {
    const target = slowTarget();
    const batcher = new SendBatcher(target.dispatch, { lanes: 8 });
    const sent = Array.from({ length: 64 }, (_, i) => stamp({ partitionKey: `k${i}`, data: i }));
    await Promise.all(sent.map((e) => batcher.submit(e)));
    expect(target.state.sizes).toEqual([64]);
  });

  it('sends the records queued behind flights that answer together in one call, not one call per freed lane', async () => {
    const calls: Array<{ batch: readonly Envelope[]; answer: () => void }> = [];
    const batcher = new SendBatcher(
      (batch) =>
        new Promise<DispatchOutcome[]>((resolve) => {
          calls.push({ batch, answer: () => resolve(ok(batch)) });
        }),
      { lanes: 8 },
    );
    const keys = ['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h'];
    const laneA = keys[0] as string;
    const laneB = keys.find((k) => laneOf(k, 8) !== laneOf(laneA, 8)) as string;
    const until = async (n: number): Promise<void> => {
      for (let i = 0; i < 100 && calls.length < n; i++) await new Promise((resolve) => setImmediate(resolve));
      expect(calls).toHaveLength(n);
    };
    const first = [batcher.submit(stamp({ partitionKey: laneA, data: 1 }))];
    await until(1);
    first.push(batcher.submit(stamp({ partitionKey: laneB, data: 1 })));
    await until(2);
    // Both lanes busy: these wait behind the two flights.
    const queued = [batcher.submit(stamp({ partitionKey: laneA, data: 2 })), batcher.submit(stamp({ partitionKey: laneB, data: 2 }))];
    for (const c of calls.slice(0, 2)) c.answer();
    await Promise.all(first);
    await until(3);
    expect(calls[2]?.batch.map((e) => e.partitionKey).sort()).toEqual([laneA, laneB].sort());
    calls[2]?.answer();
    await Promise.all(queued);
  });

  it("with lingerMs, records queued behind an answer go out after it, not after another lane's linger", async () => {
    const started = performance.now();
    const calls: Array<{ at: number; size: number }> = [];
    const batcher = new SendBatcher(
      async (batch) => {
        calls.push({ at: performance.now() - started, size: batch.length });
        await delay(30);
        return ok(batch);
      },
      { lanes: 8, lingerMs: 300, maxBatchRecords: 100 },
    );
    const laneA = 'a';
    const laneB = ['b', 'c', 'd', 'e', 'f', 'g', 'h'].find((k) => laneOf(k, 8) !== laneOf(laneA, 8)) as string;
    // 150 on one key: 100 go at once (a full batch does not linger), 50 wait behind that flight.
    const first = batcher.submitAll(Array.from({ length: 150 }, (_, i) => stamp({ partitionKey: laneA, data: i })));
    await delay(10);
    // A lone record of another lane starts its linger while the flight is out.
    const lone = batcher.submit(stamp({ partitionKey: laneB, data: 'lone' }));
    await first;
    const waited = performance.now() - started;
    expect(calls[1]?.size).toBeGreaterThanOrEqual(50);
    // The 50 left right after the first answer (about 30 ms in), not when the linger ran out (300 ms in).
    expect(waited).toBeLessThan(200);
    await lone;
  });

  it('flush waits for every record submitted, across batches that follow one another on a lane', async () => {
    const target = slowTarget();
    const batcher = new SendBatcher(target.dispatch, { lanes: 1, maxBatchRecords: 10 });
    let settled = 0;
    const sent = Array.from({ length: 100 }, (_, i) => stamp({ partitionKey: `k${i % 5}`, data: i }));
    for (const e of sent) void batcher.submit(e).then(() => settled++);
    await batcher.flush();
    expect(target.landed).toHaveLength(100);
    expect(target.state.sizes.length).toBeGreaterThanOrEqual(10);
    await new Promise((resolve) => setImmediate(resolve));
    expect(settled).toBe(100);
  });

  it('gathers lanes only up to a call of 500 records, so a target taking more per call still gets several in flight', async () => {
    const target = slowTarget();
    const batcher = new SendBatcher(target.dispatch, { lanes: 8, maxBatchRecords: 10_000 });
    // 8 lanes x about 400 records: each batch stops gathering once it holds 500 or more.
    const sent = Array.from({ length: 3_200 }, (_, i) => stamp({ partitionKey: `k${i % 64}`, data: i }));
    const outcomes = await batcher.submitAll(sent);
    expect(outcomes.every((o) => o.ok)).toBe(true);
    expect(target.state.sizes.length).toBeGreaterThan(2);
    expect(Math.max(...target.state.sizes)).toBeLessThan(1_000);
    expect(target.state.maxActive).toBeGreaterThan(1);
    expect(byKey(target.landed)).toEqual(byKey(sent));
  });

  it('submitAll answers every record in submit order, across lanes and batches, and a dispatch that throws is each record error', async () => {
    let call = 0;
    const failure = new TransientError('the second call fails');
    const batcher = new SendBatcher(
      async (batch) => {
        if (call++ === 1) throw failure;
        return batch.map((e) => ({ ok: true, id: e.id, landedOn: { tier: 'primary', target: e.partitionKey } }) as DispatchOutcome);
      },
      { lanes: 4, maxBatchRecords: 5 },
    );
    const sent = Array.from({ length: 23 }, (_, i) => stamp({ partitionKey: `k${i % 9}`, data: i }));
    const outcomes = await batcher.submitAll(sent);
    expect(outcomes).toHaveLength(sent.length);
    const failed = outcomes.filter((o) => !o.ok);
    expect(failed.length).toBeGreaterThan(0);
    for (const o of failed) expect(o).toEqual({ ok: false, error: failure });
    // Every record that landed is answered at its own place (the target echoes the record's key).
    outcomes.forEach((o, i) => o.ok && expect(o.landedOn.target).toBe(sent[i]?.partitionKey));
    expect(await batcher.submitAll([])).toEqual([]);
  });

  it('answers each record at its place when a long queue is taken 500 at a time (and compacted) while several groups wait in it', async () => {
    const calls: number[] = [];
    const batcher = new SendBatcher(
      async (batch) => {
        calls.push(batch.length);
        await delay(1);
        return batch.map((e) => ({ ok: true, id: e.id, landedOn: { tier: 'primary', target: e.partitionKey } }) as DispatchOutcome);
      },
      { lanes: 1 },
    );
    // Seven groups of different sizes, all queued on the one lane before its first call answers: 4,700 records.
    const groups = [300, 1, 1200, 999, 700, 1000, 500].map((n, g) => Array.from({ length: n }, (_, i) => stamp({ partitionKey: `g${g}-${i}`, data: i })));
    const answers = await Promise.all(groups.map((group) => batcher.submitAll(group)));
    answers.forEach((outcomes, g) => {
      expect(outcomes.map((o) => (o.ok ? o.id : 'failed'))).toEqual(groups[g]?.map((e) => e.id));
      outcomes.forEach((o, i) => o.ok && expect(o.landedOn.target).toBe(groups[g]?.[i]?.partitionKey));
    });
    expect(calls.reduce((a, b) => a + b, 0)).toBe(4_700);
    expect(Math.max(...calls)).toBe(500);
  });

  it('keeps every answer in place and each key in order when most records wait for room (a long overflow, compacted as it drains)', async () => {
    const landed: Envelope[] = [];
    const batcher = new SendBatcher(
      async (batch) => {
        await delay(1);
        landed.push(...batch);
        return batch.map((e) => ({ ok: true, id: e.id, landedOn: { tier: 'primary', target: e.partitionKey } }) as DispatchOutcome);
      },
      { lanes: 2, maxQueuedRecords: 300 },
    );
    const groups = [1500, 7, 1400, 900].map((n, g) => Array.from({ length: n }, (_, i) => stamp({ partitionKey: `k${i % 37}`, data: `${g}-${i}` })));
    const answers = await Promise.all(groups.map((group) => batcher.submitAll(group)));
    answers.forEach((outcomes, g) => expect(outcomes.map((o) => (o.ok ? o.id : 'failed'))).toEqual(groups[g]?.map((e) => e.id)));
    expect(landed).toHaveLength(3_807);
    const submitted = byKey(groups.flat());
    for (const [key, ids] of byKey(landed)) expect(ids).toEqual(submitted.get(key));
    expect(batcher.queued).toBe(0);
  });

  it('hashes keys to lanes deterministically and evenly', () => {
    const counts = new Array(8).fill(0);
    for (let i = 0; i < 8000; i++) counts[laneOf(`order-${i}`, 8)]++;
    for (const n of counts) expect(n).toBeGreaterThan(800);
    expect(laneOf('order-42', 8)).toBe(laneOf('order-42', 8));
    expect(laneOf('anything', 1)).toBe(0);
  });

  it('refuses a bad lanes setting with a ConfigError naming batching.lanes', () => {
    for (const lanes of [0, -1, 1.5, 5000]) {
      expect(() => new SendBatcher(async (b) => ok(b), { lanes })).toThrow(ConfigError);
      expect(() => new SendBatcher(async (b) => ok(b), { lanes })).toThrow(/batching\.lanes/);
    }
  });
});
