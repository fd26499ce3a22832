import { describe, expect, it } from 'vitest';
import { TransientError } from '../../src/errors/index.js';
import { memoryBus } from '../helpers/bus-parts.js';

describe('reconciler', () => {
  it('drains spool and secondary back into the primary in send order, once each', async () => {
    const { bus, primary, secondary, spool } = memoryBus();
    primary.script = () => new TransientError('down');
    const first = await bus.sendBatch(Array.from({ length: 40 }, (_, i) => ({ partitionKey: `k${i % 3}`, data: i })));
    secondary.script = () => new TransientError('down too');
    const second = await bus.sendBatch(Array.from({ length: 30 }, (_, i) => ({ partitionKey: `k${i % 3}`, data: 100 + i })));
    expect(first.every((r) => r.ok && r.landedOn.tier === 'secondary')).toBe(true);
    expect(second.every((r) => r.ok && r.landedOn.tier === 'spool')).toBe(true);

    primary.script = () => 'ok';
    const summary = await bus.reconcile();
    expect(summary.error).toBeUndefined();
    expect(summary.written).toBe(70);
    const sentIds = [...first, ...second].map((r) => (r.ok ? r.id : ''));
    expect(primary.ids()).toEqual(sentIds);
    expect((await spool.stats()).records).toBe(0);

    const again = await bus.reconcile();
    expect(again.written).toBe(0);
    expect(primary.stored).toHaveLength(70);
    await bus.close();
  });

  it('replays every delta but only the latest snapshot per coalesce key', async () => {
    const { bus, primary } = memoryBus();
    primary.script = () => new TransientError('down');
    const sent = await bus.sendBatch([
      { partitionKey: 'a', data: 'delta 1' },
      { partitionKey: 'a', data: 'balance 10', kind: 'snapshot', coalesceKey: 'acct-a' },
      { partitionKey: 'a', data: 'delta 2' },
      { partitionKey: 'a', data: 'balance 12', kind: 'snapshot', coalesceKey: 'acct-a' },
      { partitionKey: 'b', data: 'balance 5', kind: 'snapshot', coalesceKey: 'acct-b' },
    ]);
    primary.script = () => 'ok';
    const summary = await bus.reconcile();
    const ids = sent.map((r) => (r.ok ? r.id : ''));
    expect(primary.ids()).toEqual([ids[0], ids[2], ids[3], ids[4]]);
    expect(summary.coalesced).toBe(1);
    await bus.close();
  });

  it('stops when the primary fails mid-drain, keeps the rest, and finishes later without duplicates', async () => {
    const { bus, primary, spool } = memoryBus({
      reconciler: { enabled: false, windowRecords: 100, maxRecordsPerSecond: 1e6, maxBytesPerSecond: 1e12 },
    });
    primary.script = () => new TransientError('down');
    const sent = await bus.sendBatch(Array.from({ length: 1000 }, (_, i) => ({ partitionKey: `k${i % 7}`, data: i })));
    let writes = 0;
    primary.script = (batch) => {
      writes += batch.length;
      return writes > 450 ? new TransientError('flapped') : 'ok';
    };
    const partial = await bus.reconcile();
    expect(partial.error).toMatch(/flapped/);
    expect(partial.written).toBeGreaterThan(0);
    expect(partial.written).toBeLessThan(1000);

    primary.script = () => 'ok';
    const done = await waitForDrain(bus);
    expect(done).toBe(true);
    const ids = sent.map((r) => (r.ok ? r.id : ''));
    expect(new Set(primary.ids())).toEqual(new Set(ids));
    expect(primary.stored).toHaveLength(1000);
    expect((await spool.stats()).records).toBe(0);
    await bus.close();
  });
});

async function waitForDrain(bus: ReturnType<typeof memoryBus>['bus']): Promise<boolean> {
  const deadline = Date.now() + 10_000;
  while (Date.now() < deadline) {
    const s = await bus.reconcile();
    if (!s.error && s.written === 0) return true;
  }
  return false;
}
