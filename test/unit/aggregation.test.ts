import { createHash } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Aggregator, aggregate, deaggregate, isAggregated } from '../../adapters/kinesis/aggregation.js';
import { createStamper, decodeEnvelope, encodeEnvelope } from '../../src/envelope/index.js';
import { MalformedEnvelopeError } from '../../src/errors/index.js';

const MAGIC = [0xf3, 0x89, 0x9a, 0xc2];
const md5 = (bytes: Uint8Array): Buffer => createHash('md5').update(bytes).digest();
const withTrailer = (proto: number[]): Buffer => Buffer.concat([Buffer.from(MAGIC), Buffer.from(proto), md5(Buffer.from(proto))]);

describe('KPL aggregation', () => {
  it('writes the reference layout: magic, protobuf AggregatedRecord, MD5 of the protobuf', () => {
    // partition_key_table[0] = "k" (field 1, wire type 2); records[0] = { partition_key_index: 0, data: "hi" } (field 3).
    const proto = [0x0a, 0x01, 0x6b, 0x1a, 0x06, 0x08, 0x00, 0x1a, 0x02, 0x68, 0x69];
    expect(Buffer.from(aggregate([{ partitionKey: 'k', data: Buffer.from('hi') }]))).toEqual(withTrailer(proto));
  });

  it('reads what other producers write: explicit hash keys, tags and shared key indexes', () => {
    const proto = [
      ...[0x0a, 0x01, 0x61], // partition_key_table[0] = "a"
      ...[0x0a, 0x01, 0x62], // partition_key_table[1] = "b"
      ...[0x12, 0x01, 0x39], // explicit_hash_key_table[0] = "9"
      ...[0x1a, 0x0b, 0x08, 0x01, 0x10, 0x00, 0x1a, 0x01, 0x78, 0x22, 0x02, 0x0a, 0x00], // { pk 1, ehk 0, data "x", tags [{key ""}] }
      ...[0x1a, 0x05, 0x08, 0x00, 0x1a, 0x01, 0x79], // { pk 0, data "y" }
      ...[0x1a, 0x05, 0x08, 0x01, 0x1a, 0x01, 0x7a], // { pk 1, data "z" }
    ];
    const out = deaggregate(withTrailer(proto), 'outer');
    expect(out.map((r) => [r.partitionKey, Buffer.from(r.data).toString()])).toEqual([
      ['b', 'x'],
      ['a', 'y'],
      ['b', 'z'],
    ]);
  });

  it('treats bytes without the magic, or with a digest that does not match, as one plain record', () => {
    const plain = Buffer.from('just a record');
    expect(deaggregate(plain, 'p')).toEqual([{ partitionKey: 'p', data: plain }]);
    const bad = Buffer.from(aggregate([{ partitionKey: 'k', data: Buffer.from('hi') }]));
    bad[bad.length - 1] = (bad[bad.length - 1] as number) ^ 0xff;
    expect(isAggregated(bad)).toBe(true);
    expect(deaggregate(bad, 'p')).toEqual([{ partitionKey: 'p', data: bad }]);
  });

  it('refuses a protobuf that does not parse behind a matching digest', () => {
    expect(() => deaggregate(withTrailer([0x1a, 0x7f, 0x08]), 'p')).toThrow(MalformedEnvelopeError);
    expect(() => deaggregate(withTrailer([0x1a, 0x02, 0x08, 0x05]), 'p')).toThrow(/partition_key_index or data|past the table/);
  });

  it('round-trips any records, in order, and keeps spillway envelopes whole (ids for dedupe)', () => {
    fc.assert(
      fc.property(fc.array(fc.record({ partitionKey: fc.string({ minLength: 1, maxLength: 20 }), data: fc.uint8Array({ maxLength: 400 }) }), { minLength: 1, maxLength: 40 }), (records) => {
        const back = deaggregate(aggregate(records), 'outer');
        expect(back.map((r) => [r.partitionKey, Array.from(r.data)])).toEqual(records.map((r) => [r.partitionKey, Array.from(r.data)]));
      }),
    );
    const stamp = createStamper();
    const envelopes = Array.from({ length: 5 }, (_, i) => stamp({ partitionKey: `k${i % 2}`, data: { i } }));
    const back = deaggregate(aggregate(envelopes.map((e) => ({ partitionKey: e.partitionKey, data: encodeEnvelope(e) }))), 'k0');
    expect(back.map((r) => decodeEnvelope(r.data, r.partitionKey).id)).toEqual(envelopes.map((e) => e.id));
  });

  it('packs up to the size limit and says exactly how big the result is', () => {
    const agg = new Aggregator(1_000);
    let added = 0;
    while (agg.add({ partitionKey: `key-${added % 3}`, data: new Uint8Array(100) })) added++;
    expect(added).toBeGreaterThan(5);
    const expected = agg.sizeWith({ partitionKey: 'key-0', data: new Uint8Array(0) });
    const bytes = agg.finish();
    expect(bytes.length).toBeLessThanOrEqual(1_000);
    expect(bytes.length).toBeLessThan(expected);
    expect(deaggregate(bytes, 'x')).toHaveLength(added);
    expect(agg.count).toBe(0);
  });
});
