/**
 * Failback: when writes return to the primary after a failover. With
 * `after-drain` (the default) every partition key's records reach the primary
 * in send order, even with live traffic during a paced drain; `immediate`
 * gives that up. Memory targets, real timers, no sleeps: events and polls.
 */
import { describe, expect, it } from 'vitest';
import type { Envelope } from '../../src/envelope/index.js';
import { TransientError } from '../../src/errors/index.js';
import { memoryBus } from '../helpers/bus-parts.js';
import { waitFor } from '../helpers/emulators.js';

const drainingBus = (extra: Parameters<typeof memoryBus>[0] = {}) =>
  memoryBus({
    breaker: { volumeThreshold: 2, resetTimeoutMs: 20 },
    reconciler: { enabled: true, intervalMs: 60_000, maxRecordsPerSecond: 1e6, maxBytesPerSecond: 1e12, uncertainSettleMs: 0 },
    ...extra,
  });

/** For each key, are the primary's records in send (id) order? Returns the keys where not. */
function keysOutOfOrder(stored: readonly Envelope[]): string[] {
  const last = new Map<string, string>();
  const bad = new Set<string>();
  for (const e of stored) {
    const prev = last.get(e.partitionKey);
    if (prev !== undefined && prev > e.id) bad.add(e.partitionKey);
    last.set(e.partitionKey, e.id);
  }
  return [...bad];
}

describe('failback', () => {
  it('after-drain (default): a write made after a failover waits behind the backlog, so the older record reaches the primary first', async () => {
    const { bus, primary, secondary } = drainingBus({ reconciler: { enabled: false, maxRecordsPerSecond: 1e6, maxBytesPerSecond: 1e12, uncertainSettleMs: 0 } });
    secondary.down(new TransientError('down'));
    // The live write fails; the drain runs only when asked, so the second send meets the backlog for sure.
    const text = (e: Envelope) => Buffer.from(e.data).toString('utf8');
    let offeredAhead = 0;
    primary.script = (batch, call) => {
      const at = (t: string) => batch.findIndex((e) => text(e) === t);
      const olderFirst = primary.stored.some((e) => text(e) === 'spooled') || (at('spooled') >= 0 && at('spooled') < at('behind'));
      if (at('behind') >= 0 && !olderFirst) offeredAhead++;
      return call === 0 ? new TransientError('a short blip') : 'ok';
    };
    const failbacks: boolean[] = [];
    bus.events.on('bus.failback', (e) => failbacks.push(e.forced));
    const first = await bus.send({ partitionKey: 'k', data: 'spooled' });
    expect(first.landedOn.tier).toBe('spool');
    const second = await bus.send({ partitionKey: 'k', data: 'behind' });
    expect(second.landedOn.tier).toBe('spool');
    await bus.reconcile();
    await waitFor(async () => !(await bus.stats()).behindBacklog, { timeoutMs: 10_000, message: 'failback' });
    expect(failbacks).toEqual([false]);
    const third = await bus.send({ partitionKey: 'k', data: 'direct' });
    expect(third.landedOn.tier).toBe('primary');
    expect(primary.ids()).toEqual([first.id, second.id, third.id]);
    expect(offeredAhead).toBe(0);
    await bus.close();
  });

  it('retries a drain that failed while writes are behind, without waiting for the timer', async () => {
    // The breaker stays closed (few failures), so no breaker.close will start the next drain.
    const { bus, primary, secondary } = drainingBus({ breaker: { volumeThreshold: 10, consecutiveFailures: 5, resetTimeoutMs: 20 } });
    const opened: string[] = [];
    bus.events.on('breaker.open', (e) => opened.push(e.target));
    secondary.down(new TransientError('down'));
    primary.script = (_batch, call) => (call < 2 ? new TransientError('a short blip') : 'ok');
    const first = await bus.send({ partitionKey: 'k', data: 'spooled' });
    await waitFor(async () => !(await bus.stats()).behindBacklog, { timeoutMs: 10_000, message: 'failback' });
    expect(primary.ids()).toEqual([first.id]);
    expect(primary.calls).toBeGreaterThanOrEqual(3);
    expect(opened).toEqual([]);
    await bus.close();
  });

  it('immediate: the write after the failover goes straight to the primary, ahead of the older one', async () => {
    const { bus, primary, secondary } = drainingBus({ failback: { mode: 'immediate' } });
    secondary.down(new TransientError('down'));
    primary.script = (_batch, call) => (call === 0 ? new TransientError('one blip') : 'ok');
    const first = await bus.send({ partitionKey: 'k', data: 'spooled' });
    const second = await bus.send({ partitionKey: 'k', data: 'direct' });
    expect(second.landedOn.tier).toBe('primary');
    await waitFor(() => primary.stored.length === 2, { timeoutMs: 10_000, message: 'the drain' });
    expect(primary.ids()).toEqual([second.id, first.id]);
    await bus.close();
  });

  it('keeps every key in send order with live traffic during a paced drain, then switches back to the primary', async () => {
    const { bus, primary, secondary } = drainingBus({
      reconciler: { enabled: true, intervalMs: 60_000, maxRecordsPerSecond: 4_000, maxBytesPerSecond: 1e12, uncertainSettleMs: 0, readRecords: 200, windowRecords: 500 },
    });
    primary.down(new TransientError('down'));
    secondary.down(new TransientError('down'));
    const key = (i: number) => `key-${i % 13}`;
    let n = 0;
    const backlog = await bus.sendBatch(Array.from({ length: 3_000 }, () => ({ partitionKey: key(n), data: n++ })));
    expect(backlog.every((r) => r.ok && r.landedOn.tier === 'spool')).toBe(true);
    primary.up();
    secondary.up();
    // Live traffic while the backlog drains at 4,000 records/s, until writes land on the primary again.
    const live: string[] = [];
    await waitFor(
      async () => {
        const results = await bus.sendBatch(Array.from({ length: 50 }, () => ({ partitionKey: key(n), data: n++ })));
        live.push(...results.map((r) => (r.ok ? r.landedOn.tier : 'failed')));
        return results.every((r) => r.ok && r.landedOn.tier === 'primary');
      },
      { timeoutMs: 30_000, intervalMs: 20, message: 'writes to return to the primary' },
    );
    await waitFor(async () => (await bus.stats()).spool.records === 0 && !(await bus.reconcile()).written, { timeoutMs: 30_000, message: 'the drain' });
    expect(live.filter((t) => t === 'failed')).toEqual([]);
    expect(live.filter((t) => t !== 'primary').length).toBeGreaterThan(0);
    expect(primary.stored).toHaveLength(n);
    expect(new Set(primary.ids()).size).toBe(n);
    expect(keysOutOfOrder(primary.stored)).toEqual([]);
    await bus.close();
  }, 60_000);

  it('switches back anyway past failback.maxBehindMs, says so, and records the cost in order', async () => {
    let now = 1_000_000;
    const { bus, primary, secondary } = drainingBus({
      clock: () => now,
      failback: { maxBehindMs: 60_000 },
      reconciler: { enabled: false, maxRecordsPerSecond: 1e6, maxBytesPerSecond: 1e12, uncertainSettleMs: 0 },
    });
    secondary.down(new TransientError('down'));
    primary.script = (_batch, call) => (call === 0 ? new TransientError('one blip') : 'ok');
    const forced: boolean[] = [];
    bus.events.on('bus.failback', (e) => forced.push(e.forced));
    await bus.send({ partitionKey: 'k', data: 'spooled' });
    now += 59_000;
    expect((await bus.send({ partitionKey: 'k', data: 'still behind' })).landedOn.tier).toBe('spool');
    now += 2_000;
    expect((await bus.send({ partitionKey: 'k', data: 'forced back' })).landedOn.tier).toBe('primary');
    expect(forced).toEqual([true]);
    expect((await bus.stats()).behindBacklog).toBe(false);
    await bus.close();
  });

  it('stays behind while the drain cannot finish (a source unavailable), and never writes live records to the primary meanwhile', async () => {
    const { bus, primary, secondary } = drainingBus({ secondarySources: async () => [{ id: 'broken', next: () => Promise.reject(new TransientError('unreadable')) }] });
    primary.script = (_batch, call) => (call === 0 ? new TransientError('one blip') : 'ok');
    await bus.send({ partitionKey: 'k', data: 'to secondary' });
    const summary = await bus.reconcile();
    expect(summary.unavailable).toEqual(['broken']);
    for (let i = 0; i < 5; i++) expect((await bus.send({ partitionKey: 'k', data: i })).landedOn.tier).toBe('secondary');
    expect((await bus.stats()).behindBacklog).toBe(true);
    expect(primary.stored).toHaveLength(0);
    expect(secondary.stored).toHaveLength(6);
    await bus.close();
  });
});
