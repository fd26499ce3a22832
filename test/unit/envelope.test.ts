import { describe, expect, it } from 'vitest';
import {
  createStamper,
  decodeEnvelope,
  encodeEnvelope,
  encodeEnvelopeForKinesis,
  encodedSize,
  kinesisRecordSize,
  isValidationError,
  KINESIS_MAX_BATCH_BYTES,
  KINESIS_MAX_BATCH_RECORDS,
  KINESIS_MAX_PARTITION_KEY_CHARS,
  KINESIS_MAX_RECORD_BYTES,
  MalformedEnvelopeError,
  payloadOf,
  RecordTooLargeError,
  ValidationError,
} from '../../src/index.js';

describe('envelope stamping', () => {
  const stamp = createStamper({ clock: () => 1_700_000_000_000 });

  it('gives unique, time-ordered ids and both times', () => {
    const a = stamp({ partitionKey: 'k', data: 'one', eventTime: new Date(1_600_000_000_000) });
    const b = stamp({ partitionKey: 'k', data: 'two' });
    expect(a.id).toHaveLength(26);
    expect(b.id > a.id).toBe(true);
    expect(a.eventTime).toBe(1_600_000_000_000);
    expect(a.sentTime).toBe(1_700_000_000_000);
    expect(b.eventTime).toBe(1_700_000_000_000);
    expect(a.kind).toBe('delta');
  });

  it('round-trips bytes, text and JSON through the wire format', () => {
    for (const data of [new Uint8Array([0, 1, 255]), 'héllo', { a: [1, 2, { b: null }] }]) {
      const e = stamp({ partitionKey: 'p', data, kind: 'snapshot', coalesceKey: 'acct-1' });
      const back = decodeEnvelope(encodeEnvelope(e));
      expect(back).toMatchObject({ id: e.id, partitionKey: 'p', kind: 'snapshot', coalesceKey: 'acct-1', sentTime: e.sentTime });
      expect(payloadOf(back)).toEqual(data);
    }
  });

  it('defaults a snapshot coalesceKey to its partition key', () => {
    expect(stamp({ partitionKey: 'p', data: 1, kind: 'snapshot' }).coalesceKey).toBe('p');
  });

  it.each([
    [{ partitionKey: '', data: 'x' }, /partitionKey is empty/],
    [{ partitionKey: 'k'.repeat(257), data: 'x' }, /257 characters/],
    [{ partitionKey: 'k', data: '' }, /data is empty/],
    [{ partitionKey: 'k', data: undefined }, /data is missing/],
    [{ partitionKey: 'k', data: 'x', coalesceKey: 'c' }, /only meaningful for kind 'snapshot'/],
    [{ partitionKey: 'k', data: 'x', eventTime: Number.NaN }, /eventTime/],
  ])('rejects bad input %# with a ValidationError that says what to fix', (input, message) => {
    let caught: unknown;
    try {
      stamp(input as never);
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(ValidationError);
    expect(isValidationError(caught)).toBe(true);
    expect((caught as Error).message).toMatch(message);
  });

  it('holds the documented AWS limits, not whatever the constants say', () => {
    // https://docs.aws.amazon.com/kinesis/latest/APIReference/API_PutRecords.html
    expect(KINESIS_MAX_RECORD_BYTES).toBe(1_048_576);
    expect(KINESIS_MAX_BATCH_BYTES).toBe(5 * 1_048_576);
    expect(KINESIS_MAX_BATCH_RECORDS).toBe(500);
    expect(KINESIS_MAX_PARTITION_KEY_CHARS).toBe(256);
  });

  it('accepts a record of exactly 1,048,576 bytes of Kinesis data plus key, and rejects one byte more', () => {
    const key = 'key';
    const probe = stamp({ partitionKey: key, data: new Uint8Array(1) });
    const overhead = encodeEnvelopeForKinesis(probe).length - 1 + key.length;
    const fits = stamp({ partitionKey: key, data: new Uint8Array(1_048_576 - overhead) });
    expect(encodeEnvelopeForKinesis(fits).length + key.length).toBe(1_048_576);
    let caught: unknown;
    try {
      stamp({ partitionKey: key, data: new Uint8Array(1_048_576 - overhead + 1) });
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(RecordTooLargeError);
    expect((caught as RecordTooLargeError).limit).toBe(1_048_576);
    expect((caught as RecordTooLargeError).size).toBe(1_048_577);
    expect((caught as Error).message).toMatch(/split the payload/);
  });

  it('accepts a 256-character partition key and rejects 257 (counted in characters, not UTF-16 units)', () => {
    expect(stamp({ partitionKey: '😀'.repeat(256), data: 'x' }).partitionKey).toHaveLength(512);
    expect(() => stamp({ partitionKey: 'k'.repeat(257), data: 'x' })).toThrow(/257 characters/);
  });

  it('refuses to decode bytes that are not an envelope', () => {
    expect(() => decodeEnvelope(Buffer.from('plain kinesis record'))).toThrow(MalformedEnvelopeError);
    const e = encodeEnvelope(stamp({ partitionKey: 'k', data: 'x' }));
    const future = Buffer.from(e);
    future[3] = 9;
    expect(() => decodeEnvelope(future)).toThrow(/version 9/);
  });
});

describe('sizes the stamper remembers', () => {
  const stamp = createStamper({ clock: () => 1_700_000_000_000, producer: 'producer-1' });
  const inputs = [
    { partitionKey: 'k', data: { a: 1 } },
    { partitionKey: 'clé ☃', data: 'text', kind: 'snapshot' as const, coalesceKey: 'other' },
    { partitionKey: 'k2', data: new Uint8Array(300), explicitHashKey: '12345', eventTime: 5 },
    { partitionKey: 'x'.repeat(200), data: 'y'.repeat(20_000), kind: 'snapshot' as const },
  ];

  it('are the sizes of the encodings, for every shape of record', () => {
    for (const input of inputs) {
      const e = stamp(input);
      expect(encodedSize(e)).toBe(encodeEnvelope(e).length);
      expect(kinesisRecordSize(e)).toBe(encodeEnvelopeForKinesis(e).length + Buffer.byteLength(e.partitionKey));
      // A decoded copy (nothing remembered) agrees, and equals the stamped one field for field.
      const decoded = decodeEnvelope(encodeEnvelope(e));
      expect(encodedSize(decoded)).toBe(encodedSize(e));
      expect({ ...decoded, data: [...decoded.data] }).toEqual({ ...e, data: [...e.data] });
    }
  });

  it('stay right when stampers of different producers take turns (the producer field size is remembered between records)', () => {
    // 'e' and 'é' have one length and two byte counts.
    const stampers = ['p', 'prodücer-with-a-longer-id', 'e', 'é', 'p'.repeat(130), undefined].map((producer) => createStamper({ ...(producer ? { producer } : {}), clock: () => 1_700_000_000_000 }));
    for (let i = 0; i < 12; i++) {
      const e = (stampers[i % stampers.length] as (typeof stampers)[number])({ partitionKey: `k${i}`, data: { i } });
      expect(encodedSize(e)).toBe(encodeEnvelope(e).length);
    }
  });

  it('are the sizes of the encodings when the times do not fit the compact form (fractions, far from the send time)', () => {
    const cases = [
      { clock: 1_700_000_000_000, eventTime: 1.5 },
      { clock: 1_700_000_000_000.5, eventTime: undefined },
      { clock: 1_700_000_000_000, eventTime: 2 ** 60 },
      { clock: 0, eventTime: -1_000 },
    ];
    for (const { clock, eventTime } of cases) {
      const e = createStamper({ clock: () => clock, producer: 'producer-1' })({ partitionKey: 'k', data: { a: 1 }, ...(eventTime === undefined ? {} : { eventTime }) });
      expect(encodedSize(e)).toBe(encodeEnvelope(e).length);
      expect(kinesisRecordSize(e)).toBe(encodeEnvelopeForKinesis(e).length + 1);
    }
  });

  it('are not written by kinesisRecordSize: measuring an envelope of your own leaves it as it was', () => {
    const mine = { ...stamp({ partitionKey: 'k', data: 'small' }) };
    const before = kinesisRecordSize(mine);
    mine.data = new Uint8Array(1_000);
    expect(kinesisRecordSize(mine)).toBe(before - 5 + 1_000);
    expect(encodedSize(mine)).toBe(encodeEnvelope(mine).length);
    expect(Object.getOwnPropertySymbols(mine)).toEqual([]);
  });

  it('do not travel with a copy: a spread with other data is measured afresh', () => {
    const e = stamp({ partitionKey: 'k', data: 'small' });
    const copy = { ...e, data: new Uint8Array(5_000) };
    expect(encodedSize(copy)).toBe(encodeEnvelope(copy).length);
    expect(encodedSize(copy)).toBeGreaterThan(encodedSize(e) + 4_000);
  });
});
