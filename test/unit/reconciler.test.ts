import { describe, expect, it, vi } from 'vitest';
import { TransientError, ValidationError } from '../../src/errors/index.js';
import { createMemoryCheckpointStore, createMemoryDedupeStore, createMemorySpool } from '../../adapters/memory/index.js';
import type { DedupeStore, Spool } from '../../src/contracts/index.js';
import type { Envelope } from '../../src/envelope/index.js';
import { memoryBus, primaryClosed, storedSource } from '../helpers/bus-parts.js';
import type { MemoryTarget } from '../helpers/memory-target.js';

// These tests drive the breaker with live writes, which failback 'after-drain' keeps off the primary; see failback.test.ts.
const fastReset = { breaker: { volumeThreshold: 2, resetTimeoutMs: 20 }, failback: { mode: 'immediate' as const } };

describe('reconciler', () => {
  it('drains spool and secondary back into the primary in send order, once each, after the breaker closes', async () => {
    const { bus, primary, secondary, spool } = memoryBus(fastReset);
    primary.down(new TransientError('down'));
    const first = await bus.sendBatch(Array.from({ length: 40 }, (_, i) => ({ partitionKey: `k${i % 3}`, data: i })));
    secondary.down(new TransientError('down too'));
    const second = await bus.sendBatch(Array.from({ length: 30 }, (_, i) => ({ partitionKey: `k${i % 3}`, data: 100 + i })));
    expect(first.every((r) => r.ok && r.landedOn.tier === 'secondary')).toBe(true);
    expect(second.every((r) => r.ok && r.landedOn.tier === 'spool')).toBe(true);
    expect(primary.stored).toHaveLength(0);

    primary.up();
    secondary.up();
    await primaryClosed(bus);
    expect(primary.probes).toBeGreaterThan(0);
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

  const autoReconcile = { ...fastReset, reconciler: { enabled: true, intervalMs: 60_000, maxRecordsPerSecond: 1e6, maxBytesPerSecond: 1e12 } };
  const drained = (bus: ReturnType<typeof memoryBus>['bus']) =>
    new Promise<number>((resolve) => bus.events.on('reconciler.done', (s) => s.written > 0 && resolve(s.written)));

  it('starts by itself when the primary breaker closes', async () => {
    const { bus, primary, secondary } = memoryBus(autoReconcile);
    primary.down(new TransientError('down'));
    secondary.down(new TransientError('down'));
    const sent = [];
    for (let i = 0; i < 3; i++) sent.push(...(await bus.sendBatch(Array.from({ length: 10 }, (_, j) => ({ partitionKey: 'k', data: i * 10 + j })))));
    expect(sent.every((r) => r.ok && r.landedOn.tier === 'spool')).toBe(true);
    expect((await bus.stats()).breakers[0]?.state).not.toBe('closed');
    const done = drained(bus);
    primary.up();
    expect(await done).toBe(30);
    expect(primary.ids()).toEqual(sent.map((r) => (r.ok ? r.id : '')));
    await bus.close();
  });

  it('with failback immediate, starts when the primary takes a write again after a failover that did not open the breaker (the newer record lands first)', async () => {
    const { bus, primary, secondary } = memoryBus(autoReconcile);
    secondary.down(new TransientError('down'));
    primary.script = (_batch, call) => (call === 0 ? new TransientError('one blip') : 'ok');
    const first = await bus.send({ partitionKey: 'k', data: 'spooled' });
    expect(first.landedOn.tier).toBe('spool');
    expect((await bus.stats()).breakers[0]?.state).toBe('closed');
    const done = drained(bus);
    const second = await bus.send({ partitionKey: 'k', data: 'direct' });
    expect(second.landedOn.tier).toBe('primary');
    expect(await done).toBe(1);
    expect(primary.ids()).toEqual([second.id, first.id]);
    await bus.close();
  });

  it('replays every delta but only the latest snapshot per coalesce key', async () => {
    const { bus, primary } = memoryBus(fastReset);
    primary.down(new TransientError('down'));
    const sent = await bus.sendBatch([
      { partitionKey: 'a', data: 'delta 1' },
      { partitionKey: 'a', data: 'balance 10', kind: 'snapshot', coalesceKey: 'acct-a' },
      { partitionKey: 'a', data: 'delta 2' },
      { partitionKey: 'a', data: 'balance 12', kind: 'snapshot', coalesceKey: 'acct-a' },
      { partitionKey: 'b', data: 'balance 5', kind: 'snapshot', coalesceKey: 'acct-b' },
    ]);
    primary.up();
    await primaryClosed(bus);
    const summary = await bus.reconcile();
    const ids = sent.map((r) => (r.ok ? r.id : ''));
    expect(primary.ids()).toEqual([ids[0], ids[2], ids[3], ids[4]]);
    expect(summary.coalesced).toBe(1);
    await bus.close();
  });

  it('stops when the primary fails mid-drain, keeps the rest, and finishes later without duplicates', async () => {
    const { bus, primary, secondary, spool } = memoryBus({
      ...fastReset,
      reconciler: { enabled: false, windowRecords: 100, maxRecordsPerSecond: 1e6, maxBytesPerSecond: 1e12 },
    });
    primary.down(new TransientError('down'));
    const onSecondary = await bus.sendBatch(Array.from({ length: 500 }, (_, i) => ({ partitionKey: `k${i % 7}`, data: i })));
    secondary.down(new TransientError('down'));
    const spooled = await bus.sendBatch(Array.from({ length: 500 }, (_, i) => ({ partitionKey: `k${i % 7}`, data: i })));
    secondary.up();
    primary.up();
    await primaryClosed(bus);
    let writes = 0;
    primary.script = (batch) => {
      writes += batch.length;
      return writes > 450 ? new TransientError('flapped') : 'ok';
    };
    const partial = await bus.reconcile();
    expect(partial.error).toMatch(/flapped/);
    expect(partial.written).toBeGreaterThan(0);
    expect(partial.written).toBeLessThan(1000);

    primary.up();
    await primaryClosed(bus);
    const rest = await bus.reconcile();
    expect(rest.error).toBeUndefined();
    const ids = [...onSecondary, ...spooled].map((r) => (r.ok ? r.id : ''));
    expect(primary.ids()).toEqual(ids);
    expect((await spool.stats()).records).toBe(0);
    await bus.close();
  });

  describe('a crash between the primary acknowledging a batch and marking it seen', () => {
    /** A dedupe store whose first markSeen dies, as the process would. */
    function crashingDedupe(): DedupeStore & { crashed: boolean } {
      const inner = createMemoryDedupeStore();
      const store = {
        crashed: false,
        filterUnseen: (ids: readonly string[]) => inner.filterUnseen(ids),
        markSeen: async (ids: readonly string[], ttl: number) => {
          if (!store.crashed) {
            store.crashed = true;
            throw new Error('process died before the dedupe journal was fsynced');
          }
          await inner.markSeen(ids, ttl);
        },
        close: () => inner.close(),
      };
      return store;
    }

    async function crashThenResume(withIntents: boolean): Promise<{ primary: MemoryTarget; sent: string[]; settled: number }> {
      const dedupe = crashingDedupe();
      const checkpoints = createMemoryCheckpointStore();
      let primaryRef: MemoryTarget | undefined;
      const uncertain = {
        store: checkpoints,
        findWritten: async (ids: ReadonlySet<string>) => (primaryRef?.ids() ?? []).filter((id) => ids.has(id)),
      };
      const { bus, primary, secondary } = memoryBus({ ...fastReset, dedupe, ...(withIntents ? { uncertain } : {}) });
      primaryRef = primary;
      primary.down(new TransientError('down'));
      secondary.down(new TransientError('down'));
      const results = await bus.sendBatch(Array.from({ length: 1200 }, (_, i) => ({ partitionKey: `k${i % 5}`, data: i })));
      primary.up();
      await primaryClosed(bus);
      const crashed = await bus.reconcile();
      expect(crashed.error).toMatch(/process died/);
      expect(dedupe.crashed).toBe(true);
      const resumed = await bus.reconcile();
      expect(resumed.error).toBeUndefined();
      await bus.close();
      return { primary, sent: results.map((r) => (r.ok ? r.id : '')), settled: resumed.settled };
    }

    it('does not write the batch twice: the next run finds it in the primary first', async () => {
      const { primary, sent, settled } = await crashThenResume(true);
      expect(settled).toBe(500);
      expect(primary.ids()).toEqual(sent);
    });

    it('would write it twice without the write intent (the control for the test above)', async () => {
      const { primary, sent } = await crashThenResume(false);
      expect(new Set(primary.ids())).toEqual(new Set(sent));
      expect(primary.stored.length).toBe(sent.length + 500);
    });
  });

  describe('a primary write that failed ambiguously (it timed out, but landed)', () => {
    async function timeoutThatLanded(recordUncertain: boolean) {
      const checkpoints = createMemoryCheckpointStore();
      let primaryRef: MemoryTarget | undefined;
      const uncertain = { store: checkpoints, findWritten: async (ids: ReadonlySet<string>) => (primaryRef?.ids() ?? []).filter((id) => ids.has(id)) };
      const { bus, primary, secondary } = memoryBus({ ...fastReset, ...(recordUncertain ? { uncertain } : {}) });
      primaryRef = primary;
      primary.script = (batch, call) => {
        if (call > 0) return 'ok';
        primary.stored.push(...batch); // the write landed; the answer was lost
        return new TransientError('timed out', { ambiguous: true });
      };
      const results = await bus.sendBatch(Array.from({ length: 40 }, (_, i) => ({ partitionKey: 'k', data: i })));
      expect(results.every((r) => r.ok && r.landedOn.tier === 'secondary')).toBe(true);
      expect(secondary.stored).toHaveLength(40);
      const summary = await bus.reconcile();
      await bus.close();
      return { primary, sent: results.map((r) => (r.ok ? r.id : '')), summary };
    }

    it('is recorded before failing over, and settled so the replay skips it', async () => {
      const { primary, sent, summary } = await timeoutThatLanded(true);
      expect(summary.settled).toBe(40);
      expect(summary.written).toBe(0);
      expect(primary.ids()).toEqual(sent);
    });

    it('is replayed twice without the record (the control)', async () => {
      const { primary, summary } = await timeoutThatLanded(false);
      expect(summary.written).toBe(40);
      expect(primary.stored).toHaveLength(80);
    });

    it('is searched for only once it is older than the settle delay, so a late landing is still found', async () => {
      const outcome = async (uncertainSettleMs: number) => {
        const checkpoints = createMemoryCheckpointStore();
        let primaryRef: MemoryTarget | undefined;
        const uncertain = { store: checkpoints, findWritten: async (ids: ReadonlySet<string>) => (primaryRef?.ids() ?? []).filter((id) => ids.has(id)) };
        const { bus, primary } = memoryBus({ ...fastReset, uncertain, reconciler: { enabled: false, maxRecordsPerSecond: 1e6, maxBytesPerSecond: 1e12, uncertainSettleMs } });
        primaryRef = primary;
        let landed!: Promise<void>;
        primary.script = (batch, call) => {
          if (call > 0) return 'ok';
          // the service applies the request 150 ms after the client gave up on it
          landed = new Promise((resolve) => setTimeout(() => resolve(void primary.stored.push(...batch)), 150));
          return new TransientError('timed out', { ambiguous: true });
        };
        await bus.sendBatch(Array.from({ length: 10 }, (_, i) => ({ partitionKey: 'k', data: i })));
        await bus.reconcile();
        await landed;
        await bus.close();
        return primary.stored.length;
      };
      expect(await outcome(400)).toBe(10);
      expect(await outcome(0)).toBe(20); // searched too early: the late copy is missed
    });

    it('is not recorded when the primary was never reached', async () => {
      const checkpoints = createMemoryCheckpointStore();
      let scans = 0;
      const uncertain = { store: checkpoints, findWritten: async () => (scans++, []) };
      const { bus, primary } = memoryBus({ ...fastReset, uncertain });
      primary.script = (_batch, call) => (call > 0 ? 'ok' : new TransientError('connection refused', { ambiguous: false }));
      await bus.sendBatch(Array.from({ length: 5 }, (_, i) => ({ partitionKey: 'k', data: i })));
      const summary = await bus.reconcile();
      expect(summary.written).toBe(5);
      expect(scans).toBe(0);
      await bus.close();
    });
  });

  describe('found in review', () => {
    it('stops and keeps the records when the primary rejects a replay batch as invalid', async () => {
      const { bus, primary, secondary, spool } = memoryBus(fastReset);
      primary.down(new TransientError('down'));
      secondary.down(new TransientError('down'));
      await bus.sendBatch(Array.from({ length: 12 }, (_, i) => ({ partitionKey: 'k', data: i })));
      primary.up();
      await primaryClosed(bus);
      primary.script = () => new ValidationError('SerializationException: truncated body');
      const summary = await bus.reconcile();
      expect(summary.error).toMatch(/SerializationException/);
      expect(summary.rejected).toBe(12);
      expect((await spool.stats()).records).toBe(12);
      primary.up();
      const retry = await bus.reconcile();
      expect(retry.written).toBe(12);
      expect((await spool.stats()).records).toBe(0);
      await bus.close();
    });

    it('settles uncertain writes recorded while the window was being read', async () => {
      const outcome = async () => {
        const checkpoints = createMemoryCheckpointStore();
        let primaryRef: MemoryTarget | undefined;
        const uncertain = { store: checkpoints, findWritten: async (ids: ReadonlySet<string>) => (primaryRef?.ids() ?? []).filter((id) => ids.has(id)) };
        let busRef: ReturnType<typeof memoryBus>['bus'] | undefined;
        let secondaryRef: MemoryTarget | undefined;
        let raced = false;
        const racingSource = {
          id: 'racing',
          async next(max: number) {
            if (!raced) {
              raced = true;
              // While the drain reads, a live send times out on the primary (but lands there) and fails over.
              const p = primaryRef as MemoryTarget;
              p.script = (batch) => (p.stored.push(...batch), new TransientError('timed out', { ambiguous: true }));
              await busRef?.send({ partitionKey: 'k', data: 'raced' });
              p.script = () => 'ok';
            }
            const stored = secondaryRef?.stored ?? [];
            return this.read < stored.length ? { envelopes: stored.slice(this.read, (this.read += max)), commit: async () => undefined } : undefined;
          },
          read: 0,
        };
        const parts = memoryBus({ ...fastReset, uncertain, secondarySources: async () => [racingSource] });
        ({ bus: busRef } = parts);
        primaryRef = parts.primary;
        secondaryRef = parts.secondary;
        const summary = await parts.bus.reconcile();
        await parts.bus.close();
        return { stored: parts.primary.stored.length, summary };
      };
      const { stored, summary } = await outcome();
      expect(summary.settled).toBe(1);
      expect(stored).toBe(1);
    });

    it('waits for secondaries that cannot be listed: the spool holds newer records of the same key', async () => {
      let listing: 'fails' | 'works' = 'works';
      const parts = memoryBus({
        ...fastReset,
        secondarySources: async () => (listing === 'fails' ? Promise.reject(new Error('us-west-2 unreachable')) : [storedSource(parts.secondary)]),
      });
      const { bus, primary, secondary, spool } = parts;
      primary.down(new TransientError('down'));
      const older = await bus.sendBatch(Array.from({ length: 5 }, (_, i) => ({ partitionKey: 'k', data: i })));
      secondary.down(new TransientError('down'));
      const newer = await bus.sendBatch(Array.from({ length: 4 }, (_, i) => ({ partitionKey: 'k', data: 10 + i })));
      expect(older.every((r) => r.ok && r.landedOn.tier === 'secondary')).toBe(true);
      expect(newer.every((r) => r.ok && r.landedOn.tier === 'spool')).toBe(true);
      primary.up();
      secondary.up();
      await primaryClosed(bus);
      listing = 'fails';
      const blocked = await bus.reconcile();
      expect(blocked.written).toBe(0);
      expect(blocked.unavailable).toEqual(['secondaries']);
      expect((await spool.stats()).records).toBe(4);
      listing = 'works';
      const summary = await bus.reconcile();
      expect(summary.written).toBe(9);
      expect(summary.unavailable).toEqual([]);
      expect(primary.ids()).toEqual([...older, ...newer].map((r) => (r.ok ? r.id : '')));
      expect((await spool.stats()).records).toBe(0);
      await bus.close();
    });

    it('never lands an older snapshot after a newer one when the spool holding it cannot be read', async () => {
      let down = false;
      const inner = createMemorySpool({ id: 'redis-like' });
      const refuse = () => Promise.reject(new TransientError('redis spool down'));
      const flaky: Spool = {
        id: inner.id,
        append: (b) => (down ? refuse() : inner.append(b)),
        lease: (m) => (down ? refuse() : inner.lease(m)),
        scan: (visit, signal) => (down ? refuse() : (inner.scan as NonNullable<Spool['scan']>)(visit, signal)),
        ack: (l) => inner.ack(l),
        release: (l) => inner.release(l),
        stats: () => inner.stats(),
        close: () => inner.close(),
      };
      const disk = createMemorySpool({ id: 'disk-like' });
      const { bus, primary, secondary } = memoryBus({ ...fastReset, spool: [flaky, disk] });
      primary.down(new TransientError('down'));
      secondary.down(new TransientError('down'));
      const snapshot = { partitionKey: 'acct-1', kind: 'snapshot' as const };
      const first = await bus.send({ ...snapshot, data: 'balance 10' });
      const delta = await bus.send({ partitionKey: 'acct-1', data: 'deposit 5' });
      down = true;
      const last = await bus.send({ ...snapshot, data: 'balance 15' });
      expect([first, delta].map((r) => r.landedOn.target)).toEqual(['redis-like', 'redis-like']);
      expect(last.landedOn.target).toBe('disk-like');
      primary.up();
      secondary.up();
      await primaryClosed(bus);
      const blocked = await bus.reconcile();
      expect(blocked.written).toBe(0);
      expect(blocked.unavailable).toEqual(['redis-like']);
      expect(primary.stored).toHaveLength(0);
      down = false;
      const summary = await bus.reconcile();
      // The delta in order, and of the two snapshots only the newer.
      expect(primary.ids()).toEqual([delta.id, last.id]);
      expect(summary.coalesced).toBe(1);
      expect([(await inner.stats()).records, (await disk.stats()).records]).toEqual([0, 0]);
      await bus.close();
    });

    it('drains the others without a source once it has been unreadable for unavailableSourceWaitMs', async () => {
      vi.useFakeTimers({ toFake: ['Date'] });
      try {
        let listing: 'fails' | 'works' = 'fails';
        const parts = memoryBus({
          ...fastReset,
          reconciler: { enabled: false, maxRecordsPerSecond: 1e6, maxBytesPerSecond: 1e12, uncertainSettleMs: 0, unavailableSourceWaitMs: 60_000 },
          secondarySources: async () => (listing === 'fails' ? Promise.reject(new Error('us-west-2 unreachable')) : [storedSource(parts.secondary)]),
        });
        const { bus, primary, secondary, spool } = parts;
        primary.down(new TransientError('down'));
        secondary.down(new TransientError('down'));
        const sent = await bus.sendBatch(Array.from({ length: 6 }, (_, i) => ({ partitionKey: 'k', data: i })));
        primary.up();
        await primaryClosed(bus);
        expect((await bus.reconcile()).written).toBe(0);
        vi.setSystemTime(Date.now() + 59_000);
        expect((await bus.reconcile()).written).toBe(0);
        vi.setSystemTime(Date.now() + 1_000);
        const late = await bus.reconcile();
        expect(late.written).toBe(6);
        expect(late.unavailable).toEqual(['secondaries']);
        expect(primary.ids()).toEqual(sent.map((r) => (r.ok ? r.id : '')));
        expect((await spool.stats()).records).toBe(0);
        // Readable again: the wait starts afresh for the next failure.
        listing = 'works';
        expect((await bus.reconcile()).unavailable).toEqual([]);
        listing = 'fails';
        await bus.sendBatch([{ partitionKey: 'k', data: 'after' }]);
        expect((await bus.reconcile()).written).toBe(0);
        await bus.close();
      } finally {
        vi.useRealTimers();
      }
    });

    it('waits for several unreadable sources at once, not one after the other', async () => {
      vi.useFakeTimers({ toFake: ['Date'] });
      try {
        const down = (id: string) => ({ id, next: () => Promise.reject(new Error(`${id} unreachable`)) });
        const { bus, primary, secondary, spool } = memoryBus({
          ...fastReset,
          reconciler: { enabled: false, maxRecordsPerSecond: 1e6, maxBytesPerSecond: 1e12, uncertainSettleMs: 0, unavailableSourceWaitMs: 60_000 },
          secondarySources: async () => [down('shard-a'), down('shard-b')],
        });
        primary.down(new TransientError('down'));
        secondary.down(new TransientError('down'));
        await bus.sendBatch(Array.from({ length: 4 }, (_, i) => ({ partitionKey: 'k', data: i })));
        primary.up();
        await primaryClosed(bus);
        const first = await bus.reconcile();
        expect(first.written).toBe(0);
        expect(first.unavailable.sort()).toEqual(['shard-a', 'shard-b']);
        vi.setSystemTime(Date.now() + 60_000);
        expect((await bus.reconcile()).written).toBe(4);
        expect((await spool.stats()).records).toBe(0);
        await bus.close();
      } finally {
        vi.useRealTimers();
      }
    });

    it('plans exactly what the drain then writes: a snapshot in two places once, one already written not at all', async () => {
      const { bus, primary, secondary, spool } = memoryBus(fastReset);
      primary.down(new TransientError('down'));
      const older = await bus.send({ partitionKey: 'acct', data: 'balance 1', kind: 'snapshot' });
      const twice = await bus.send({ partitionKey: 'acct-2', data: 'balance 2', kind: 'snapshot' });
      const newer = await bus.send({ partitionKey: 'acct', data: 'balance 3', kind: 'snapshot' });
      const delta = await bus.send({ partitionKey: 'acct', data: 'deposit' });
      // The same snapshot in the secondary and in the spool (a write of unknown fate that was spooled as well).
      await spool.append([secondary.stored.find((e) => e.id === twice.id) as Envelope]);
      primary.up();
      await primaryClosed(bus);
      const plan = await bus.plan();
      expect(plan).toMatchObject({ records: 5, duplicates: 1, alreadyWritten: 0, coalesced: 1, toWrite: 3 });
      const summary = await bus.reconcile();
      expect(summary.written).toBe(plan.toWrite);
      expect(primary.ids().sort()).toEqual([twice.id, newer.id, delta.id].sort());
      expect(primary.ids()).not.toContain(older.id);
      expect(await bus.plan()).toMatchObject({ toWrite: 0 });
      await bus.close();
    });

    it('hands back the uncommitted chunks when a commit fails midway, so none is stranded', async () => {
      const { bus, primary, secondary, spool } = memoryBus({
        ...fastReset,
        reconciler: { enabled: false, readRecords: 10, windowRecords: 100, maxRecordsPerSecond: 1e6, maxBytesPerSecond: 1e12, uncertainSettleMs: 0 },
      });
      primary.down(new TransientError('down'));
      secondary.down(new TransientError('down'));
      const sent = await bus.sendBatch(Array.from({ length: 30 }, (_, i) => ({ partitionKey: 'k', data: i })));
      primary.up();
      secondary.up();
      await primaryClosed(bus);
      const ack = spool.ack.bind(spool);
      let acks = 0;
      spool.ack = async (lease) => {
        if (++acks === 2) throw new Error('ENOSPC writing the cursor');
        return ack(lease);
      };
      const failed = await bus.reconcile();
      expect(failed.error).toMatch(/ENOSPC/);
      const retry = await bus.reconcile();
      expect(retry.error).toBeUndefined();
      expect((await spool.stats()).records).toBe(0);
      expect(primary.ids()).toEqual(sent.map((r) => (r.ok ? r.id : '')));
      await bus.close();
    });
  });
});
