/**
 * Kinesis → EventBridge failover end to end: kinesalite as the primary, the
 * EventBridge fake as the secondary (its rule delivering to a fauxqs queue),
 * each behind a fault proxy, the real SDK clients. The primary is cut off
 * mid-load; every acknowledged id must reach the primary exactly once and the
 * drain queue must be left empty.
 */
import { describe, expect, it } from 'vitest';
import { createEventBridgeTier } from '../../adapters/eventbridge/index.js';
import type { BatchItemResult } from '../../src/bus/bus.js';
import { tierContext, useEventBridgeFake } from '../helpers/eventbridge.js';
import { useKinesisEmulator } from '../helpers/emulators.js';
import { kinesisOverTier, useSqsEmulator } from '../helpers/sqs.js';
import { idCounts } from '../helpers/two-regions.js';

const batchOf = (n: number, phase: string) => Array.from({ length: n }, (_, i) => ({ partitionKey: `customer-${i % 40}`, data: { phase, i } }));

describe('Kinesis → EventBridge failover end to end (kinesalite, EventBridge fake, fauxqs)', () => {
  const kinesis = useKinesisEmulator('kinesalite');
  const sqs = useSqsEmulator();
  const eb = useEventBridgeFake(sqs);

  it('writes land on the bus while the primary is down, reach the drain queue, and drain back exactly once', async () => {
    const { config, queueUrl } = await eb.createBus();
    const tier = createEventBridgeTier(config, tierContext);
    const setup = await kinesisOverTier(kinesis, tier);
    const results: BatchItemResult[] = [];
    const phase = async (name: string, batches: number) => {
      for (let i = 0; i < batches; i++) results.push(...(await setup.bus.sendBatch(batchOf(100, `${name}-${i}`))));
    };
    try {
      await phase('healthy', 2);
      setup.proxy.setFault({ mode: 'refuse' });
      eb.fake.failEntries({ failEvery: 7, calls: 5 }); // some entries fail on the bus too, and are retried alone
      await phase('primary-down', 3);
      eb.fake.failEntries(undefined);
      const onBus = results.filter((r) => r.ok && r.landedOn.tier === 'secondary');
      expect(onBus.length).toBeGreaterThanOrEqual(200);
      expect(onBus.every((r) => r.ok && r.landedOn.target === tier.target.id)).toBe(true);
      expect(eb.fake.stats().failedEntries).toBeGreaterThan(0);
      // A drain may be trying the (still refused) primary and hold some messages in flight meanwhile.
      const counts = await sqs.counts(queueUrl);
      expect(counts.visible + counts.inflight).toBe(onBus.length);
      setup.proxy.setFault({ mode: 'none' });
      await phase('recovered', 1);

      expect(results.filter((r) => !r.ok)).toEqual([]);
      await setup.drain();
      const inPrimary = idCounts(await setup.readPrimary());
      const sent = results.map((r) => (r.ok ? r.id : ''));
      expect(sent.filter((id) => inPrimary.get(id) !== 1)).toEqual([]);
      expect(inPrimary.size).toBe(sent.length);
      expect(await sqs.counts(queueUrl)).toEqual({ visible: 0, inflight: 0, delayed: 0 });
    } finally {
      await setup.close();
    }
  }, 120_000);

  it('a drain that cannot reach the drain queue leaves the run incomplete and loses nothing', async () => {
    const { config, queueUrl } = await eb.createBus();
    const tier = createEventBridgeTier(config, tierContext);
    const setup = await kinesisOverTier(kinesis, tier);
    try {
      setup.proxy.setFault({ mode: 'refuse' });
      const results = await setup.bus.sendBatch(batchOf(50, 'down'));
      expect(results.every((r) => r.ok && r.landedOn.tier === 'secondary')).toBe(true);
      sqs.proxy.setFault({ mode: 'refuse' });
      setup.proxy.setFault({ mode: 'none' });
      const blocked = await setup.bus.reconcile();
      expect(blocked.unavailable).toEqual([expect.stringMatching(/^eventbridge:us-west-2:bus-.*\/q-/)]);
      expect((await sqs.counts(queueUrl)).visible).toBe(50);
      sqs.proxy.setFault({ mode: 'none' });
      await setup.drain();
      const inPrimary = idCounts(await setup.readPrimary());
      expect(results.filter((r) => r.ok && inPrimary.get(r.id) === 1)).toHaveLength(50);
      expect(await sqs.counts(queueUrl)).toEqual({ visible: 0, inflight: 0, delayed: 0 });
    } finally {
      sqs.proxy.setFault({ mode: 'none' });
      await setup.close();
    }
  }, 120_000);
});
