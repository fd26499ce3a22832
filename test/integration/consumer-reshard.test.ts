/**
 * Resharding while consuming, on a real kinesalite: a shard split in the
 * middle of a stream of records. Nothing is lost, nothing is handled twice,
 * and the order per partition key is kept (children are read only after
 * their parent ended).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DescribeStreamSummaryCommand, SplitShardCommand } from '@aws-sdk/client-kinesis';
import { describe, expect, it } from 'vitest';
import { createBus } from '../../src/bus/create-bus.js';
import type { BusConfigInput } from '../../src/config/schema.js';
import { createConsumer } from '../../src/consumer/index.js';
import type { ConsumedRecord } from '../../src/consumer/types.js';
import { FAKE_CREDENTIALS } from '../../src/drill/kinesis-admin.js';
import { silentLogger } from '../helpers/bus-parts.js';
import { useKinesisEmulator, waitFor } from '../helpers/emulators.js';

describe('consumer across a shard split (kinesalite)', () => {
  const kinesis = useKinesisEmulator('kinesalite');

  it('loses nothing and keeps per-key order when a shard is split while consuming', async () => {
    const stream = await kinesis.createStream(1);
    const dir = await mkdtemp(join(tmpdir(), 'spillway-reshard-'));
    const config: BusConfigInput = {
      primary: { kind: 'kinesis', region: 'us-east-1', stream, endpoint: kinesis.endpoint, credentials: FAKE_CREDENTIALS },
      spool: { kind: 'disk', dir },
      reconciler: { enabled: false },
    };
    const bus = await createBus(config, { logger: silentLogger });
    const consumer = await createConsumer(config, { group: 'reshard', idlePollMs: 20, shardRefreshMs: 100, concurrency: 4, readLimit: 10, maxInFlight: 20, logger: silentLogger });
    const seen: ConsumedRecord[] = [];
    const running = consumer.run(async (r) => {
      seen.push(r);
      await new Promise((resolve) => setTimeout(resolve, 2)); // a slow handler keeps the parent's backlog long while the children appear
    });
    try {
      let next = 0;
      const send = async (n: number) => {
        const batch = Array.from({ length: n }, () => {
          const i = next++;
          return { partitionKey: `key-${i % 10}`, data: { i } };
        });
        for (const r of await bus.sendBatch(batch)) expect(r.ok && r.landedOn.tier).toBe('primary');
      };
      await send(300);
      await waitFor(() => seen.length >= 50, { timeoutMs: 10_000, message: 'consumption to be under way' });
      await kinesis.client.send(new SplitShardCommand({ StreamName: stream, ShardToSplit: 'shardId-000000000000', NewStartingHashKey: (2n ** 127n).toString() }));
      await waitFor(async () => (await kinesis.client.send(new DescribeStreamSummaryCommand({ StreamName: stream }))).StreamDescriptionSummary?.StreamStatus === 'ACTIVE', { message: 'the split to finish' });
      await send(300);
      await waitFor(() => seen.length >= 600, { timeoutMs: 20_000, message: 'all 600 records' });

      const ids = seen.map((r) => r.id);
      expect(new Set(ids).size).toBe(600);
      const shards = new Set(seen.map((r) => r.shardId));
      expect(shards.size).toBe(3); // the parent and both children
      const byKey = new Map<string, number[]>();
      for (const r of seen) byKey.set(r.partitionKey, [...(byKey.get(r.partitionKey) ?? []), (JSON.parse(Buffer.from(r.data).toString()) as { i: number }).i]);
      for (const order of byKey.values()) expect(order).toEqual([...order].sort((a, b) => a - b));
    } finally {
      await consumer.close();
      await running;
      await bus.close();
      await rm(dir, { recursive: true, force: true });
    }
  }, 60_000);
});
