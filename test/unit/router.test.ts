import { describe, expect, it } from 'vitest';
import { pino } from 'pino';
import { createMemorySpool } from '../../adapters/memory/index.js';
import { classifyAwsError } from '../../adapters/aws/classify.js';
import { AllTiersFailedError, SpoolFullError, TargetRejectedError, ThrottledError, TransientError, UnauthorizedError, ValidationError } from '../../src/errors/index.js';
import type { BusEventMap } from '../../src/events/bus-events.js';
import { memoryBus, primaryClosed } from '../helpers/bus-parts.js';
import { MemoryTarget } from '../helpers/memory-target.js';

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

  it('places every outcome when a target reports its failures with copies of the envelopes, not the objects it was given', async () => {
    const primary = new MemoryTarget('mem:primary');
    const refusedIds = new Set<string>();
    primary.put = async (batch) => {
      const refused = batch.filter((_, i) => i % 3 === 0);
      for (const e of refused) refusedIds.add(e.id);
      primary.stored.push(...batch.filter((_, i) => i % 3 !== 0));
      return { failed: refused.map((e) => ({ envelope: { ...e }, error: new TargetRejectedError('refused for this test', { target: primary.id }) })) };
    };
    const { bus, secondary } = memoryBus({ primary });
    const results = await bus.sendBatch(records(30));
    expect(results.every((r) => r.ok)).toBe(true);
    const tiers = results.map((r) => (r.ok ? `${r.landedOn.tier}:${refusedIds.has(r.id)}` : 'failed'));
    expect(tiers.filter((t) => t === 'secondary:true')).toHaveLength(10);
    expect(tiers.filter((t) => t === 'primary:false')).toHaveLength(20);
    expect(new Set(secondary.ids())).toEqual(refusedIds);
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
    // Good records before, between and after bad ones: each result at its input's place, with that record's id.
    const mixed = await bus.sendBatch([
      { partitionKey: 'a', data: 'a' },
      { partitionKey: 'b', data: 'b' },
      { partitionKey: '', data: 'bad' },
      { partitionKey: 'c', data: 'c' },
      { partitionKey: 'd', data: undefined },
      { partitionKey: 'e', data: 'e' },
    ]);
    expect(mixed.map((r) => r.ok)).toEqual([true, true, false, true, false, true]);
    const stored = new Map(primary.stored.map((e) => [e.id, Buffer.from(e.data).toString()]));
    expect(mixed.filter((r) => r.ok).map((r) => stored.get((r as { id: string }).id))).toEqual(['a', 'b', 'c', 'e']);
    await bus.close();
  });

  it('passes records a target refuses for authorization to the next tier at once, logs once per target and emits an event', async () => {
    const lines: Array<{ level: number; msg: string; fix?: string; target?: string }> = [];
    const logger = pino({ level: 'info' }, { write: (line: string) => void lines.push(JSON.parse(line)) });
    // Failback immediate: each batch tries the primary again (after-drain would keep later batches behind the first).
    const { bus, primary, secondary } = memoryBus({ logger, failback: { mode: 'immediate' }, breaker: { volumeThreshold: 100, consecutiveFailures: 100, resetTimeoutMs: 60_000 } });
    const denied = classifyAwsError({ name: 'AccessDeniedException', message: 'User: arn:aws:iam::1:user/x is not authorized', $metadata: { httpStatusCode: 400 } }, { target: 'kinesis:us-east-1:orders' });
    expect(denied).toBeInstanceOf(UnauthorizedError);
    expect((denied as UnauthorizedError).fix).toMatch(/grant this identity kinesis:PutRecords/);
    primary.script = () => denied;
    const events: Array<BusEventMap['target.unauthorized']> = [];
    bus.events.on('target.unauthorized', (e) => events.push(e));
    let sent = 0;
    for (let round = 0; round < 3; round++) {
      const results = await bus.sendBatch(records(4, `auth${round}`));
      sent += results.length;
      expect(results.every((r) => r.ok && r.landedOn.tier === 'secondary')).toBe(true);
    }
    expect(primary.calls).toBe(3); // one call per batch: never retried as if transient
    expect(secondary.stored).toHaveLength(sent);
    expect(events).toHaveLength(3);
    expect(events[0]).toMatchObject({ target: 'mem:primary', tier: 'primary', records: 4 });
    expect(events[0]?.fix).toMatch(/kinesis:PutRecords/);
    const errors = lines.filter((l) => l.level === 50);
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatchObject({ target: 'mem:primary' });
    expect(errors[0]?.fix).toMatch(/kinesis:PutRecords/);
    await bus.close();
  });

  it('does not retry a partial failure that is an authorization error, and still lands every record', async () => {
    const { bus, primary, secondary } = memoryBus();
    const expired = new UnauthorizedError('ExpiredTokenException', { fix: 'renew the credentials' });
    primary.script = (batch) => new Map(batch.filter((_, i) => i % 2 === 0).map((e) => [e.id, expired]));
    const results = await bus.sendBatch(records(10));
    expect(results.every((r) => r.ok)).toBe(true);
    expect(primary.calls).toBe(1);
    expect(primary.stored).toHaveLength(5);
    expect(secondary.stored).toHaveLength(5);
    await bus.close();
  });

  it('sends a record over a target\'s per-record limit to the next tier with a bus.oversize event, whole', async () => {
    const small = Object.assign(new MemoryTarget('mem:small'), { maxRecordBytes: 300 });
    const { bus, primary, spool } = memoryBus({ secondaries: [small] });
    primary.down(new TransientError('primary down'));
    const oversize: Array<BusEventMap['bus.oversize']> = [];
    bus.events.on('bus.oversize', (e) => oversize.push(e));
    const big = 'x'.repeat(1_000);
    const results = await bus.sendBatch([{ partitionKey: 'k', data: 'small' }, { partitionKey: 'k', data: big }, { partitionKey: 'k', data: 'small too' }]);
    expect(results.map((r) => r.ok && r.landedOn.tier)).toEqual(['secondary', 'spool', 'secondary']);
    expect(oversize).toHaveLength(1);
    expect(oversize[0]).toMatchObject({ target: 'mem:small', records: 1, limitBytes: 300 });
    expect(oversize[0]?.largestBytes).toBeGreaterThan(1_000);
    const lease = await spool.lease(10);
    expect(lease.envelopes).toHaveLength(1);
    expect(lease.envelopes[0]?.data.byteLength).toBe(1_000); // whole, never truncated
    expect(small.stored).toHaveLength(2);
    await bus.close();
  });

  it('tries a chain of spools in order: a failing first spool opens its breaker and the next takes the records', async () => {
    const first = createMemorySpool({ id: 'redis:127.0.0.1:6379/spool' });
    const second = createMemorySpool({ id: 'disk:/var/spool' });
    const { bus, primary, secondary } = memoryBus({ spool: [first, second], failback: { mode: 'immediate' }, breaker: { volumeThreshold: 2, resetTimeoutMs: 1_000 } });
    primary.down(new TransientError('us-east-1 down'));
    secondary.down(new TransientError('us-west-2 down'));
    const healthy = await bus.sendBatch(records(3, 'a'));
    expect(healthy.every((r) => r.ok && r.landedOn.target === 'redis:127.0.0.1:6379/spool')).toBe(true);

    let appends = 0;
    first.append = async () => {
      appends++;
      throw new TransientError('redis connection refused');
    };
    const opened: string[] = [];
    bus.events.on('breaker.open', (e) => opened.push(e.target));
    for (let round = 0; round < 4; round++) {
      const results = await bus.sendBatch(records(5, `b${round}`));
      expect(results.every((r) => r.ok && r.landedOn.tier === 'spool' && r.landedOn.target === 'disk:/var/spool')).toBe(true);
    }
    expect(opened).toContain('redis:127.0.0.1:6379/spool');
    expect(appends).toBeLessThan(4); // the open breaker skips the failing spool
    const stats = await bus.stats();
    expect(stats.spool.records).toBe(23);
    expect(stats.spool.spools.map((s) => [s.id, s.records])).toEqual([['redis:127.0.0.1:6379/spool', 3], ['disk:/var/spool', 20]]);
    expect(stats.breakers.map((b) => [b.tier, b.target, b.state])).toEqual([
      ['primary', 'mem:primary', 'open'],
      ['secondary', 'mem:secondary', 'open'],
      ['spool', 'redis:127.0.0.1:6379/spool', 'open'],
      ['spool', 'disk:/var/spool', 'closed'], // the last spool has no breaker: always tried
    ]);

    // Both spools drain into the primary once it is back: 23 in, 23 out.
    primary.up();
    secondary.up();
    await primaryClosed(bus); // the half-open probe succeeds after resetTimeoutMs
    const summary = await bus.reconcile();
    expect(summary.written).toBe(23);
    expect(new Set(primary.ids()).size).toBe(23);
    expect((await bus.stats()).spool.records).toBe(0);
    await bus.close();
  });
});

describe('spool as the last tier', () => {
  it('appends a batch larger than the spool could ever hold in parts, storing what fits and refusing only the rest', async () => {
    const spool = createMemorySpool({ id: 'disk:/small', maxBytes: 2_000 });
    const { bus, primary, secondary } = memoryBus({ spool, failback: { mode: 'immediate' } });
    primary.down(new TransientError('down'));
    secondary.down(new TransientError('down too'));
    const results = await bus.sendBatch(Array.from({ length: 40 }, (_, i) => ({ partitionKey: 'k', data: `record-${i}`.padEnd(60, '.') })));
    const stored = results.filter((r) => r.ok);
    const refused = results.filter((r) => !r.ok);
    expect(stored.length).toBeGreaterThan(0);
    expect(refused.length).toBeGreaterThan(0);
    expect(stored.length + refused.length).toBe(40);
    // What was stored is the oldest records, in order; what did not fit was refused, never dropped silently.
    expect(results.slice(0, stored.length).every((r) => r.ok && r.landedOn.tier === 'spool')).toBe(true);
    expect((await spool.stats()).records).toBe(stored.length);
    expect(refused.every((r) => !r.ok && r.error instanceof AllTiersFailedError)).toBe(true);
    await bus.close();
  });
});
