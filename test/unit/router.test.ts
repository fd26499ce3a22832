import { describe, expect, it } from 'vitest';
import { AllTiersFailedError, SpoolFullError, ThrottledError, TransientError, ValidationError } from '../../src/errors/index.js';
import { memoryBus } from '../helpers/bus-parts.js';

const records = (n: number, prefix = 'r') => Array.from({ length: n }, (_, i) => ({ partitionKey: `${prefix}-${i % 4}`, data: { i } }));

describe('failover router', () => {
  it('sends to the primary while it is healthy, batching sends made together', async () => {
    const { bus, primary, secondary } = memoryBus();
    const results = await bus.sendBatch(records(1200));
    expect(results.every((r) => r.ok && r.landedOn.tier === 'primary')).toBe(true);
    expect(primary.stored).toHaveLength(1200);
    expect(primary.calls).toBe(3);
    expect(secondary.stored).toHaveLength(0);
    await bus.close();
  });

  it('fails over to the secondary, opens the primary breaker, then skips the primary (failback immediate)', async () => {
    const { bus, primary, secondary } = memoryBus({ failback: { mode: 'immediate' } });
    primary.script = () => new TransientError('connection refused');
    const opened: string[] = [];
    bus.events.on('breaker.open', (e) => opened.push(e.target));
    for (let round = 0; round < 5; round++) {
      const results = await bus.sendBatch(records(10, `round${round}`));
      expect(results.every((r) => r.ok && r.landedOn.tier === 'secondary')).toBe(true);
    }
    expect(opened).toEqual(['mem:primary']);
    expect(primary.calls).toBe(2); // volumeThreshold 2; the open breaker fails fast afterwards
    expect(secondary.stored).toHaveLength(50);
    await bus.close();
  });

  it('spools when every region is down, and fails only when the spool fails too, listing every cause', async () => {
    const { bus, primary, secondary, spool } = memoryBus({ failback: { mode: 'immediate' } });
    primary.script = () => new TransientError('us-east-1 unreachable');
    secondary.script = () => new TransientError('us-west-2 unreachable');
    const spooled = await bus.sendBatch(records(7));
    expect(spooled.every((r) => r.ok && r.landedOn.tier === 'spool')).toBe(true);
    expect((await spool.stats()).records).toBe(7);

    spool.append = async () => Promise.reject(new SpoolFullError('spool is full'));
    const failure = await bus.send({ partitionKey: 'k', data: 'x' }).catch((e: unknown) => e);
    expect(failure).toBeInstanceOf(AllTiersFailedError);
    const tiers = (failure as AllTiersFailedError).failures.map((f) => f.tier);
    expect(tiers).toEqual(['primary', 'secondary', 'spool']);
    expect((failure as Error).message).toMatch(/NOT stored[\s\S]*us-west-2 unreachable[\s\S]*spool is full/);
    await bus.close();
  });

  it('retries only the failed entries of a partial failure, on the same target', async () => {
    const { bus, primary, secondary } = memoryBus();
    const batchSizes: number[] = [];
    primary.script = (batch, call) => {
      batchSizes.push(batch.length);
      if (call > 0) return 'ok';
      return new Map(batch.filter((_, i) => i % 5 === 0).map((e) => [e.id, new TransientError('InternalFailure')]));
    };
    const results = await bus.sendBatch(records(20));
    expect(results.every((r) => r.ok && r.landedOn.tier === 'primary')).toBe(true);
    expect(batchSizes).toEqual([20, 4]);
    expect(new Set(primary.ids()).size).toBe(20);
    expect(primary.stored).toHaveLength(20);
    expect(secondary.calls).toBe(0);
    await bus.close();
  });

  it('backs off on throttling without failing over or opening the breaker', async () => {
    const { bus, primary, secondary } = memoryBus();
    const opened: string[] = [];
    bus.events.on('breaker.open', (e) => opened.push(e.target));
    primary.script = (_batch, call) => (call < 6 ? new ThrottledError('ProvisionedThroughputExceededException') : 'ok');
    const results = await bus.sendBatch(records(30));
    expect(results.every((r) => r.ok && r.landedOn.tier === 'primary')).toBe(true);
    expect(primary.calls).toBe(7);
    expect(secondary.calls).toBe(0);
    expect(opened).toEqual([]);
    await bus.close();
  });

  it('overflows to the next tier once throttling outlasts its budget', async () => {
    const { bus, primary, secondary } = memoryBus({ delivery: { throttleBudgetMs: 0, backoff: { baseMs: 1, capMs: 1 } } });
    primary.script = () => new ThrottledError('throttled');
    const overflow: number[] = [];
    bus.events.on('bus.overflow', (e) => overflow.push(e.records));
    const results = await bus.sendBatch(records(5));
    expect(results.every((r) => r.ok && r.landedOn.tier === 'secondary')).toBe(true);
    expect(overflow).toEqual([5]);
    expect(secondary.stored).toHaveLength(5);
    await bus.close();
  });

  it('never fails over a record a target calls invalid', async () => {
    const { bus, primary, secondary, spool } = memoryBus();
    primary.script = () => new ValidationError('InvalidArgumentException');
    const results = await bus.sendBatch(records(3));
    expect(results.every((r) => !r.ok && r.error instanceof ValidationError)).toBe(true);
    expect(secondary.calls).toBe(0);
    expect((await spool.stats()).records).toBe(0);
    await bus.close();
  });

  it('rejects a bad record before anything is written, and sends the good ones of the batch', async () => {
    const { bus, primary } = memoryBus();
    const results = await bus.sendBatch([{ partitionKey: '', data: 'x' }, { partitionKey: 'ok', data: 'y' }]);
    expect(results[0]?.ok).toBe(false);
    expect(results[1]?.ok).toBe(true);
    expect(primary.stored).toHaveLength(1);
    await bus.close();
  });
});
