/** Turning a shard record into what the handler sees (no I/O). */
import { describe, expect, it } from 'vitest';
import { toConsumedRecord } from '../../src/consumer/record.js';
import { createStamper, encodeEnvelope, encodeEnvelopeForKinesis } from '../../src/envelope/index.js';

const origin = { tier: 'primary' as const, region: 'us-east-1', stream: 's', shardId: 'shardId-000000000000', source: 'kinesis:us-east-1:s' };

describe('toConsumedRecord', () => {
  it('decodes an envelope written with or without its partition key inside (omitKeyFromData)', () => {
    const e = createStamper()({ partitionKey: 'customer-7', data: { n: 1 } });
    for (const data of [encodeEnvelope(e), encodeEnvelopeForKinesis(e)]) {
      const r = toConsumedRecord({ data, partitionKey: 'customer-7', sequenceNumber: '42', arrivedAt: 1 }, origin);
      expect(r).toMatchObject({ id: e.id, partitionKey: 'customer-7', enveloped: true, sequenceNumber: '42', contentType: 'application/json' });
      expect(JSON.parse(Buffer.from(r.data).toString())).toEqual({ n: 1 });
    }
  });

  it('passes bytes without an envelope through with an id from where they sit', () => {
    const r = toConsumedRecord({ data: Buffer.from('plain'), partitionKey: 'k', sequenceNumber: '9', arrivedAt: 5 }, origin);
    expect(r).toMatchObject({ id: 'raw:us-east-1:s:shardId-000000000000:9', enveloped: false, eventTime: 5 });
  });
});
