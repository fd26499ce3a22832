/**
 * The EventBridge target, check() and the notifier: the real SDK client
 * against the protocol-level fake behind the fault proxy, events delivered to
 * fauxqs queues. Counts every event put and every message delivered.
 */
import { ReceiveMessageCommand } from '@aws-sdk/client-sqs';
import { describe, expect, it } from 'vitest';
import { createEventBridgeNotifier, createEventBridgeTier, eventToEnvelope, EVENTBRIDGE_MAX_RECORD_BYTES } from '../../adapters/eventbridge/index.js';
import { BusEvents } from '../../src/events/bus-events.js';
import { ConfigError } from '../../src/errors/index.js';
import { FAKE_CREDENTIALS } from '../../src/drill/kinesis-admin.js';
import { silentLogger } from '../helpers/bus-parts.js';
import { tierContext, useEventBridgeFake } from '../helpers/eventbridge.js';
import { waitFor } from '../helpers/emulators.js';
import { makeEnvelope, makeEnvelopes } from '../helpers/spool-fixtures.js';
import { SQS_REGION, useSqsEmulator } from '../helpers/sqs.js';

const signal = () => AbortSignal.timeout(10_000);

describe('EventBridge target (fake → fauxqs)', () => {
  const sqs = useSqsEmulator();
  const eb = useEventBridgeFake(sqs);

  async function delivered(queueUrl: string): Promise<Array<Record<string, unknown>>> {
    const out: Array<Record<string, unknown>> = [];
    for (;;) {
      const r = await sqs.admin.send(new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 0, VisibilityTimeout: 60 }));
      if (!r.Messages?.length) return out;
      out.push(...r.Messages.map((m) => JSON.parse(m.Body ?? '{}') as Record<string, unknown>));
    }
  }

  it('puts each record as an event whose Detail carries the envelope, and the rule delivers it to the drain queue', async () => {
    const { config, queueUrl, busName } = await eb.createBus({ source: 'com.example.orders', detailType: 'order.spilled' });
    const tier = createEventBridgeTier(config, tierContext);
    const batch = makeEnvelopes(0, 10, 'eb', 100);
    expect((await tier.target.put(batch, signal())).failed).toEqual([]);
    expect(tier.target.id).toBe(`eventbridge:${SQS_REGION}:${busName}`);
    const events = await delivered(queueUrl);
    expect(events).toHaveLength(10);
    const first = events[0] as { source: string; 'detail-type': string; detail: { spillway: number; id: string; partitionKey: string } };
    expect(first.source).toBe('com.example.orders');
    expect(first['detail-type']).toBe('order.spilled');
    expect(first.detail.spillway).toBe(1);
    const decoded = events.map((e) => eventToEnvelope(JSON.stringify(e))!);
    expect(decoded.map((e) => e.id).sort()).toEqual(batch.map((e) => e.id));
    expect(decoded.every((e) => e.partitionKey === (events.find((x) => (x.detail as { id: string }).id === e.id)!.detail as { partitionKey: string }).partitionKey)).toBe(true);
    await tier.target.close();
  });

  it('reports entries EventBridge failed (FailedEntryCount) per record, and only those', async () => {
    const { config, queueUrl } = await eb.createBus();
    const tier = createEventBridgeTier(config, tierContext);
    eb.fake.failEntries({ failEvery: 4, calls: 1, errorCode: 'InternalFailure' });
    const batch = makeEnvelopes(0, 10, 'ebpart');
    const result = await tier.target.put(batch, signal());
    expect(result.failed.map((f) => f.envelope.id)).toEqual([batch[3]!.id, batch[7]!.id]);
    expect(result.failed.every((f) => f.error.code === 'spillway:transient')).toBe(true);
    eb.fake.failEntries({ failEvery: 1, calls: 1, errorCode: 'ThrottlingException' });
    const throttled = await tier.target.put([makeEnvelope(99, 'ebthrottle')], signal());
    expect(throttled.failed[0]?.error.code).toBe('spillway:throttled');
    expect(await delivered(queueUrl)).toHaveLength(8);
    await tier.target.close();
  });

  it('fails an oversize record alone, without putting it', async () => {
    const { config, queueUrl } = await eb.createBus();
    const tier = createEventBridgeTier(config, tierContext);
    const huge = { ...makeEnvelope(2, 'ebbig'), data: Buffer.alloc(EVENTBRIDGE_MAX_RECORD_BYTES + 4_000, 7) };
    const justFits = { ...makeEnvelope(3, 'ebbig'), data: Buffer.alloc(EVENTBRIDGE_MAX_RECORD_BYTES - 300, 7) };
    const result = await tier.target.put([makeEnvelope(1, 'ebbig'), huge, justFits], signal());
    expect(result.failed.map((f) => [f.envelope.id, f.error.code])).toEqual([[huge.id, 'spillway:target-rejected']]);
    const got = await delivered(queueUrl);
    expect(got).toHaveLength(2);
    // The event as the rule delivers it must still fit a 256 KiB SQS message.
    expect(Math.max(...got.map((e) => Buffer.byteLength(JSON.stringify(e))))).toBeGreaterThan(250_000);
    expect(Math.max(...got.map((e) => Buffer.byteLength(JSON.stringify(e))))).toBeLessThanOrEqual(262_144);
    await tier.target.close();
  });

  it('check(): a missing bus or drain queue is a ConfigError naming the field; an unreachable bus is reachable: false', async () => {
    const { config } = await eb.createBus();
    expect(await createEventBridgeTier(config, tierContext).check(signal())).toMatchObject({ reachable: true, writable: true });

    const noBus = await createEventBridgeTier({ ...config, eventBusName: 'no-such-bus' }, tierContext).check(signal());
    expect(noBus.error).toBeInstanceOf(ConfigError);
    expect(noBus.detail).toMatch(/^secondaries\.0\.eventBusName: event bus "no-such-bus" does not exist in us-west-2; create it .* or correct secondaries\.0\.eventBusName$/);

    const noQueue = await createEventBridgeTier({ ...config, drainQueue: { ...config.drainQueue, queueUrl: `${config.drainQueue.queueUrl}-gone` } }, tierContext).check(signal());
    expect(noQueue.error).toBeInstanceOf(ConfigError);
    expect(noQueue.detail).toMatch(/secondaries\.0\.drainQueue\.queueUrl: queue .* does not exist/);

    eb.proxy.setFault({ mode: 'refuse' });
    try {
      const down = await createEventBridgeTier(config, tierContext).check(signal());
      expect(down).toMatchObject({ reachable: false, writable: false });
      const tier = createEventBridgeTier(config, tierContext);
      await expect(tier.target.put(makeEnvelopes(0, 2, 'ebdown'), signal())).rejects.toMatchObject({ code: 'spillway:transient' });
      await expect(tier.target.probe(signal())).rejects.toMatchObject({ code: 'spillway:transient' });
    } finally {
      eb.proxy.setFault({ mode: 'none' });
    }
  });

  it('a put to a bus that does not exist is rejected (it fails over, never retried there)', async () => {
    const { config } = await eb.createBus();
    const tier = createEventBridgeTier({ ...config, eventBusName: 'vanished-bus' }, tierContext);
    await expect(tier.target.put(makeEnvelopes(0, 1, 'ebgone'), signal())).rejects.toMatchObject({ code: 'spillway:target-rejected' });
  });

  it('the notifier publishes failover, failback and drain.completed, folding bursts, and never throws', async () => {
    const { busName, queueUrl } = await eb.createBus();
    const notifier = createEventBridgeNotifier({ region: SQS_REGION, eventBusName: busName, endpoint: eb.proxy.url, credentials: FAKE_CREDENTIALS, minIntervalMs: 200, logger: silentLogger });
    const events = new BusEvents();
    const detach = notifier.attach(events);
    for (let i = 0; i < 5; i++) events.emit('bus.failover', { from: 'kinesis:us-east-1:s', to: 'sqs:us-west-2:q', records: 10, reason: 'refused' });
    events.emit('breaker.close', { target: 'sqs:us-west-2:q', tier: 'secondary' }); // not the primary: no failback
    events.emit('breaker.close', { target: 'kinesis:us-east-1:s', tier: 'primary' });
    events.emit('reconciler.done', { written: 0, skippedDuplicates: 0, coalesced: 0, rejected: 0, settled: 0, foreign: 0, durationMs: 1, unavailable: [] }); // nothing moved
    events.emit('reconciler.done', { written: 40, skippedDuplicates: 2, coalesced: 0, rejected: 0, settled: 0, foreign: 0, durationMs: 9, unavailable: [] });
    const got: Array<{ 'detail-type': string; detail: Record<string, unknown> }> = [];
    await waitFor(async () => {
      got.push(...((await delivered(queueUrl)) as typeof got));
      return got.length >= 4;
    }, { timeoutMs: 5_000, message: 'four notifications' });
    const byType = (t: string) => got.filter((e) => e['detail-type'] === t);
    expect(byType('spillway.failover')).toHaveLength(2); // the first at once, the other four folded into one
    expect(byType('spillway.failover').reduce((n, e) => n + Number(e.detail['records']), 0)).toBe(50);
    expect(byType('spillway.failover')[1]?.detail['suppressed']).toBe(4);
    expect(byType('spillway.failback').map((e) => e.detail['target'])).toEqual(['kinesis:us-east-1:s']);
    expect(byType('spillway.drain.completed').map((e) => e.detail['written'])).toEqual([40]);

    eb.proxy.setFault({ mode: 'refuse' });
    try {
      expect(() => events.emit('breaker.close', { target: 'kinesis:us-east-1:s', tier: 'primary' })).not.toThrow();
      await notifier.close(); // waits for the failed publish, which is logged and dropped
    } finally {
      eb.proxy.setFault({ mode: 'none' });
      detach();
    }
  });
});
