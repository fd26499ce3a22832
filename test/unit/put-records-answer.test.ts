/**
 * The PutRecords answer reader: for every answer, exactly what `JSON.parse`
 * gives, whether it takes its one-pass path or falls back.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parsePutRecordsAnswer } from '../../adapters/kinesis/put-records-wire.js';

const seq = (n: number): string => `4963${String(n).padStart(52, '0')}`;

describe('parsePutRecordsAnswer', () => {
  it('reads the answers Kinesis endpoints give: successes, failures, encryption type', () => {
    const answers = [
      `{"FailedRecordCount":0,"Records":[{"SequenceNumber":"${seq(1)}","ShardId":"shardId-000000000000"},{"SequenceNumber":"${seq(2)}","ShardId":"shardId-000000000001"}]}`,
      `{"EncryptionType":"NONE","FailedRecordCount":1,"Records":[{"SequenceNumber":"${seq(3)}","ShardId":"shardId-000000000000"},{"ErrorCode":"ProvisionedThroughputExceededException","ErrorMessage":"Rate exceeded for shard shardId-000000000001 in stream s under account 000000000000."}]}`,
      '{"FailedRecordCount":0,"Records":[]}',
      '{"Records":[{}]}',
      '{}',
      // Shard ids that change back and forth, one a prefix of another (consecutive entries of one shard share a string).
      '{"Records":[{"SequenceNumber":"1","ShardId":"shardId-1"},{"SequenceNumber":"2","ShardId":"shardId-10"},{"SequenceNumber":"3","ShardId":"shardId-1"},{"SequenceNumber":"4","ShardId":"shardId-"},{"SequenceNumber":"5","ShardId":"shardId-1"}]}',
      // The common entry's shape, nearly: empty values, a key more, keys the other way round.
      '{"Records":[{"SequenceNumber":"","ShardId":""},{"SequenceNumber":"1","ShardId":"s","Extra":"x"},{"ShardId":"s","SequenceNumber":"2"}]}',
    ];
    for (const text of answers) expect(parsePutRecordsAnswer(text)).toStrictEqual(JSON.parse(text));
  });

  it('falls back to JSON.parse for whitespace, escapes, other value types and repeated keys', () => {
    const answers = [
      '{ "FailedRecordCount": 0, "Records": [ { "SequenceNumber": "1", "ShardId": "s" } ] }',
      '{"FailedRecordCount":0,"Records":[{"SequenceNumber":"1","ShardId":"shard\\"0"}]}',
      '{"FailedRecordCount":0,"Records":[{"SequenceNumber":"1","ShardId":"\\u00e9"}]}',
      '{"FailedRecordCount":1.5e0,"Records":[]}',
      '{"FailedRecordCount":-1,"Records":[]}',
      '{"FailedRecordCount":null,"Records":[{"SequenceNumber":null}]}',
      '{"FailedRecordCount":0,"Records":[{"SequenceNumber":"1","SequenceNumber":"2"}]}',
      '{"FailedRecordCount":0,"FailedRecordCount":1,"Records":[]}',
      '{"Records":[{"SequenceNumber":"1","Nested":{"a":"b"}}]}',
      '{"__proto__":"x","Records":[]}',
      '{"Records":[{"__proto__":"x"}]}',
      '{"FailedRecordCount":12345678901234567890,"Records":[]}',
    ];
    for (const text of answers) expect(parsePutRecordsAnswer(text)).toStrictEqual(JSON.parse(text));
  });

  it('throws as JSON.parse does on a truncated or malformed answer', () => {
    for (const text of ['{"FailedRecordCount":0,"Records":[{"SequenceNumber":"1"', '{"Records":[{"a":"b"},]}', '{"Records":[{"a":"b"}]}x', '{"FailedRecordCount":00,"Records":[]}', '', 'null']) {
      let expected: unknown;
      try {
        expected = JSON.parse(text);
      } catch (error) {
        expected = error;
      }
      if (expected instanceof Error) expect(() => parsePutRecordsAnswer(text)).toThrow(SyntaxError);
      else expect(parsePutRecordsAnswer(text)).toStrictEqual(expected);
    }
  });

  it('agrees with JSON.parse on generated answers', () => {
    const text = fc.string({ unit: fc.constantFrom('a', 'Z', '0', '-', ' ', '"', '\\', '}', ',', ':', 'é', '\u0001'), maxLength: 12 });
    const entry = fc.dictionary(fc.constantFrom('SequenceNumber', 'ShardId', 'ErrorCode', 'ErrorMessage'), text, { maxKeys: 4 });
    const answer = fc.record(
      { FailedRecordCount: fc.nat({ max: 500 }), EncryptionType: fc.constantFrom('NONE', 'KMS'), Records: fc.array(entry, { maxLength: 20 }) },
      { requiredKeys: ['Records'] },
    );
    fc.assert(
      fc.property(answer, fc.boolean(), (value, pretty) => {
        const json = pretty ? JSON.stringify(value, null, 1) : JSON.stringify(value);
        expect(parsePutRecordsAnswer(json)).toStrictEqual(JSON.parse(json));
      }),
      { numRuns: 500 },
    );
  });
});
