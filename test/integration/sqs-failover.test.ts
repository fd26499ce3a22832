/**
 * Kinesis → SQS failover end to end: kinesalite as the primary and fauxqs as
 * the secondary, each behind a fault proxy, the real SDK clients. The primary
 * is cut off mid-load; every acknowledged id must reach the primary exactly
 * once and the queue must be left empty.
 */
import { describe, expect, it } from 'vitest';
import { createMemoryCheckpointStore } from '../../adapters/memory/index.js';
import { createSqsTier, sqsDescriptor } from '../../adapters/sqs/index.js';
import type { BatchItemResult } from '../../src/bus/bus.js';
import { FAKE_CREDENTIALS } from '../../src/drill/kinesis-admin.js';
import { silentLogger } from '../helpers/bus-parts.js';
import { useKinesisEmulator } from '../helpers/emulators.js';
import { SQS_REGION, kinesisOverTier, useSqsEmulator } from '../helpers/sqs.js';
import { idCounts } from '../helpers/two-regions.js';

const context = { field: 'secondaries.0', role: 'secondary' as const, logger: silentLogger, checkpoints: createMemoryCheckpointStore() };
const batchOf = (n: number, phase: string, keys: number) => Array.from({ length: n }, (_, i) => ({ partitionKey: `customer-${i % keys}`, data: { phase, i } }));

describe('Kinesis → SQS failover end to end (kinesalite, fauxqs)', () => {
  const kinesis = useKinesisEmulator('kinesalite');
  const sqs = useSqsEmulator();

  async function run(fifo: boolean, perPhase: number, keys: number): Promise<void> {
    const { queueUrl } = await sqs.createQueue({ fifo });
    const config = sqsDescriptor.schema.parse({ kind: 'sqs', region: SQS_REGION, queueUrl, endpoint: sqs.proxy.url, credentials: FAKE_CREDENTIALS, requestTimeoutMs: 1_000, waitTimeSeconds: 0 });
    const tier = createSqsTier(config, context);
    const setup = await kinesisOverTier(kinesis, tier);
    const results: BatchItemResult[] = [];
    const phase = async (name: string, batches: number) => {
      for (let i = 0; i < batches; i++) results.push(...(await setup.bus.sendBatch(batchOf(perPhase, `${name}-${i}`, keys))));
    };
    try {
      await phase('healthy', 2);
      setup.proxy.setFault({ mode: 'refuse' });
      await phase('primary-down', 3);
      const onQueue = results.filter((r) => r.ok && r.landedOn.tier === 'secondary');
      expect(onQueue.length).toBeGreaterThanOrEqual(2 * perPhase);
      expect(onQueue.every((r) => r.ok && r.landedOn.target === tier.target.id)).toBe(true);
      const counts = await sqs.counts(queueUrl);
      expect(counts.visible + counts.inflight).toBe(onQueue.length);
      setup.proxy.setFault({ mode: 'none' });
      await phase('recovered', 1);

      expect(results.filter((r) => !r.ok)).toEqual([]);
      await setup.drain();
      const primaryRecords = await setup.readPrimary();
      const inPrimary = idCounts(primaryRecords);
      const sent = results.map((r) => (r.ok ? r.id : ''));
      expect(sent.filter((id) => inPrimary.get(id) !== 1)).toEqual([]);
      expect(inPrimary.size).toBe(sent.length);
      expect(await sqs.counts(queueUrl)).toEqual({ visible: 0, inflight: 0, delayed: 0 });
      // The records that went through the queue reach the primary in send order per key
      // (one chunk held them all on the standard queue; FIFO keeps each group's order).
      const viaQueue = new Set(onQueue.map((r) => (r.ok ? r.id : '')));
      const perKey = new Map<string, string[]>();
      for (const e of primaryRecords) if (viaQueue.has(e.id)) perKey.set(e.partitionKey, [...(perKey.get(e.partitionKey) ?? []), e.id]);
      for (const ids of perKey.values()) expect(ids).toEqual([...ids].sort());
    } finally {
      await setup.close();
    }
  }

  it('standard queue: writes land on the queue while the primary is down and drain back exactly once', async () => {
    await run(false, 100, 40);
  }, 120_000);

  it('FIFO queue: the same, one message group per partition key', async () => {
    await run(true, 40, 40);
  }, 120_000);
});
