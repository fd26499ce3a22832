/** KPL aggregation against kinesalite: records packed per shard, read back, de-aggregated and counted. */
import { describe, expect, it } from 'vitest';
import { deaggregate, ShardRanges } from '../../adapters/kinesis/aggregation.js';
import { createKinesisTarget } from '../../adapters/kinesis/kinesis-target.js';
import { listStreamShards } from '../../adapters/kinesis/shard-source.js';
import { FAKE_CREDENTIALS, readAllRecords } from '../../src/drill/kinesis-admin.js';
import { createStamper, decodeEnvelope } from '../../src/envelope/index.js';
import { useKinesisEmulator } from '../helpers/emulators.js';

describe('Kinesis target with aggregation', () => {
  const kinesis = useKinesisEmulator('kinesalite');

  it('packs records into few Kinesis records, each on the shard of every key inside, in per-key order', async () => {
    const stream = await kinesis.createStream(4);
    const target = createKinesisTarget({ region: 'us-east-1', stream, endpoint: kinesis.endpoint, credentials: FAKE_CREDENTIALS, aggregate: { maxAggregateBytes: 8_000 } });
    try {
      const stamp = createStamper();
      const batch = Array.from({ length: 1_000 }, (_, i) => stamp({ partitionKey: `key-${i % 37}`, data: { i, pad: 'x'.repeat(60) } }));
      // One record too big to share an aggregate goes plain.
      batch.push(stamp({ partitionKey: 'key-big', data: new Uint8Array(9_000) }));
      const result = await target.put(batch, new AbortController().signal);
      expect(result.failed).toEqual([]);
      expect(result.receipts?.filter((r) => r?.shardId !== undefined && r.sequenceNumber !== undefined)).toHaveLength(batch.length);

      const stored = await readAllRecords(kinesis.client, stream);
      expect(stored.length).toBeLessThan(100);
      const shards = new ShardRanges(await listStreamShards(kinesis.client, stream));
      const shardIds = (await listStreamShards(kinesis.client, stream)).map((s) => s.ShardId);
      const seen: Array<{ id: string; key: string; data: number }> = [];
      for (const record of stored) {
        for (const user of deaggregate(record.data, record.partitionKey)) {
          const envelope = decodeEnvelope(user.data, user.partitionKey);
          expect(envelope.partitionKey).toBe(user.partitionKey);
          // Every user record sits on the shard its own key maps to.
          expect(record.shardId).toBe(shardIds[shards.shardOf(user.partitionKey)]);
          seen.push({ id: envelope.id, key: envelope.partitionKey, data: envelope.data.length });
        }
      }
      expect(seen).toHaveLength(batch.length);
      expect(new Set(seen.map((s) => s.id)).size).toBe(batch.length);
      for (const key of new Set(batch.map((e) => e.partitionKey))) {
        expect(seen.filter((s) => s.key === key).map((s) => s.id)).toEqual(batch.filter((e) => e.partitionKey === key).map((e) => e.id));
      }
    } finally {
      await target.close();
    }
  });
});
