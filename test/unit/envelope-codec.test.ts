import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decodeTime } from 'ulidx';
import { packUlid, UlidSource, unpackUlid } from '../../src/envelope/ulid-bytes.js';
import {
  createStamper,
  decodeEnvelope,
  encodeEnvelope,
  encodeEnvelopeForKinesis,
  encodeEnvelopeV1,
  type Envelope,
  encodedSize,
  kinesisRecordSize,
  MalformedEnvelopeError,
  payloadOf,
} from '../../src/index.js';

const CROCKFORD = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';
const ulidArb = fc
  .tuple(fc.constantFrom(...'01234567'), fc.array(fc.constantFrom(...CROCKFORD), { minLength: 25, maxLength: 25 }))
  .map(([first, rest]) => first + rest.join(''));

const timeArb = fc.oneof(fc.integer({ min: 0, max: 2 ** 48 - 1 }), fc.double({ noNaN: true, noDefaultInfinity: true }), fc.constant(1_700_000_000_000), fc.constant(-0));

const envelopeArb: fc.Arbitrary<Envelope> = fc
  .record({
    id: fc.oneof(ulidArb, fc.string({ minLength: 1, maxLength: 40 })),
    partitionKey: fc.string({ minLength: 1, maxLength: 256, unit: 'grapheme' }),
    kind: fc.constantFrom('delta' as const, 'snapshot' as const),
    coalesceKey: fc.option(fc.string({ minLength: 1, maxLength: 60, unit: 'grapheme' }), { nil: undefined }),
    eventTime: timeArb,
    sentTime: timeArb,
    contentType: fc.constantFrom('application/octet-stream' as const, 'application/json' as const, 'text/plain' as const),
    data: fc.uint8Array({ minLength: 0, maxLength: 300 }),
  })
  .map((e) => {
    // As the Envelope type says: a coalesce key exactly on snapshots (often the partition key itself).
    const { coalesceKey, ...rest } = e;
    return e.kind === 'snapshot' ? { ...rest, coalesceKey: coalesceKey ?? e.partitionKey } : rest;
  });

const plain = (e: Envelope): Record<string, unknown> => ({ ...e, data: Array.from(e.data) });

describe('envelope codec v2', () => {
  it('round-trips any envelope exactly, self-contained and in the Kinesis form', () => {
    fc.assert(
      fc.property(envelopeArb, (e) => {
        const self = encodeEnvelope(e);
        expect(self.length).toBe(encodedSize(e));
        expect(plain(decodeEnvelope(self))).toEqual(plain(e));
        const bare = encodeEnvelopeForKinesis(e);
        expect(bare.length + Buffer.byteLength(e.partitionKey)).toBe(kinesisRecordSize(e));
        expect(plain(decodeEnvelope(bare, e.partitionKey))).toEqual(plain(e));
        // The key inside wins over a carrier's key.
        expect(decodeEnvelope(self, 'other').partitionKey).toBe(e.partitionKey);
      }),
      { numRuns: 500 },
    );
  });

  it('packs any canonical ULID into 16 bytes and back', () => {
    fc.assert(
      fc.property(ulidArb, (id) => {
        const out = new Uint8Array(18);
        packUlid(id, out, 1);
        expect(unpackUlid(out, 1)).toBe(id);
      }),
    );
    const max = new Uint8Array(16).fill(0xff);
    expect(unpackUlid(max, 0)).toBe('7ZZZZZZZZZZZZZZZZZZZZZZZZZ');
  });

  it('packs runs of ids that share their first 22 characters (one producer, one millisecond), and whatever comes between', () => {
    const ids: string[] = [];
    const ulids = new UlidSource();
    const next = (now: number) => ulids.next(now);
    for (let i = 0; i < 3_000; i++) ids.push(next(1_700_000_000_000 + Math.floor(i / 1_000)));
    // Same head, differing only in the last four characters; then ids from elsewhere in between.
    const mixed = fc.sample(ulidArb, 50).flatMap((other, i) => [other, ...ids.slice(i * 60, i * 60 + 60)]);
    for (const id of [...ids, ...mixed, 'ZZ', '7ZZZZZZZZZZZZZZZZZZZZZZZZZ', '7ZZZZZZZZZZZZZZZZZZZZZ0000']) {
      if (id.length !== 26) continue;
      const out = new Uint8Array(20).fill(0xaa);
      packUlid(id, out, 2);
      expect(unpackUlid(out, 2)).toBe(id);
      expect([out[0], out[1], out[18], out[19]]).toEqual([0xaa, 0xaa, 0xaa, 0xaa]);
    }
  });

  it('keeps the Kinesis-form header of a stamped record within 48 bytes, whatever the key', () => {
    const stamp = createStamper();
    const data = new Uint8Array(100);
    for (const partitionKey of ['k', 'order-12345', 'x'.repeat(256)]) {
      for (const eventTime of [undefined, 0, Date.now() - 365 * 86_400_000]) {
        const e = stamp({ partitionKey, data, ...(eventTime === undefined ? {} : { eventTime }) });
        const header = encodeEnvelopeForKinesis(e).length - data.length;
        expect(header).toBeLessThanOrEqual(48);
        expect(header).toBeGreaterThanOrEqual(28);
      }
    }
    // The record the issue measured: a 100-byte payload was 271 bytes as v1.
    const e = stamp({ partitionKey: 'order-12345', data });
    expect(encodeEnvelopeV1(e).length).toBeGreaterThan(250);
    expect(encodeEnvelopeForKinesis(e).length).toBeLessThanOrEqual(148);
  });

  it('still decodes version 1 bytes, including ones written by hand to the documented layout', () => {
    const stamp = createStamper({ clock: () => 1_700_000_000_000 });
    const e = stamp({ partitionKey: 'p', data: { a: 1 }, kind: 'snapshot', coalesceKey: 'acct' });
    expect(plain(decodeEnvelope(encodeEnvelopeV1(e)))).toEqual(plain(e));
    expect(plain(decodeEnvelope(encodeEnvelopeV1(e), 'ignored'))).toEqual(plain(e));
    const head = Buffer.from(
      JSON.stringify({ id: '01HZZZZZZZZZZZZZZZZZZZZZZZ', partitionKey: 'k', kind: 'delta', eventTime: 5, sentTime: 6, contentType: 'text/plain', future: 1 }),
    );
    const lengthBytes = Buffer.alloc(4);
    lengthBytes.writeUInt32BE(head.length);
    const v1 = Buffer.concat([Buffer.from([0x53, 0x50, 0x57, 0x01]), lengthBytes, head, Buffer.from('hi')]);
    const back = decodeEnvelope(v1);
    expect(back).toMatchObject({ id: '01HZZZZZZZZZZZZZZZZZZZZZZZ', partitionKey: 'k', kind: 'delta', eventTime: 5, sentTime: 6 });
    expect(payloadOf(back)).toBe('hi');
  });

  it('decodes a v2 record written by hand to the documented layout', () => {
    // SPW 2, flags: text (code 2 << 1) | key inside (0x08) = 0x0c; id 16 bytes; sentTime 1000; delta -1 (zigzag 1); key "k"; payload "hi".
    const bytes = Buffer.concat([
      Buffer.from([0x53, 0x50, 0x57, 0x02, 0x0c]),
      Buffer.alloc(16, 0),
      Buffer.from([0, 0, 0, 0, 0x03, 0xe8, 0x01, 0x01, 0x6b]),
      Buffer.from('hi'),
    ]);
    const e = decodeEnvelope(bytes);
    expect(e).toMatchObject({ id: '0'.repeat(26), partitionKey: 'k', kind: 'delta', sentTime: 1000, eventTime: 999, contentType: 'text/plain' });
    expect(payloadOf(e)).toBe('hi');
  });

  it('says what to pass when a Kinesis-form record is decoded without its key', () => {
    const e = createStamper()({ partitionKey: 'k', data: 'x' });
    expect(() => decodeEnvelope(encodeEnvelopeForKinesis(e))).toThrow(/decodeEnvelope\(data, partitionKey\)/);
  });

  it('throws only MalformedEnvelopeError for cut-short or unknown bytes', () => {
    fc.assert(
      fc.property(envelopeArb, fc.nat(), (e, cut) => {
        const bytes = encodeEnvelope(e);
        const prefix = bytes.subarray(0, cut % (bytes.length - e.data.length));
        expect(() => decodeEnvelope(prefix)).toThrow(MalformedEnvelopeError);
      }),
      { numRuns: 300 },
    );
    const e = encodeEnvelope(createStamper()({ partitionKey: 'k', data: 'x' }));
    const reserved = Buffer.from(e);
    reserved[4] = (reserved[4] as number) | 0x06; // content-type code 3: not one this spillway knows
    expect(() => decodeEnvelope(reserved)).toThrow(/upgrade spillway/);
    const future = Buffer.from(e);
    future[3] = 9;
    expect(() => decodeEnvelope(future)).toThrow(/version 9/);
  });
});

describe('monotonic ULIDs', () => {
  it('are canonical ULIDs whose time part is the clock, strictly increasing within and across milliseconds', () => {
    const ulids = new UlidSource();
    const next = (now: number) => ulids.next(now);
    let last = '';
    for (const now of [1_700_000_000_000, 1_700_000_000_000, 1_700_000_000_000, 1_700_000_000_001, 1_699_999_999_000, 1_700_000_000_005]) {
      const id = next(now);
      expect(id).toMatch(/^[0-7][0-9A-HJKMNP-TV-Z]{25}$/);
      expect(id > last).toBe(true);
      expect(decodeTime(id)).toBe(Math.max(now, decodeTime(last || id)));
      last = id;
    }
  });

  it('refuses a time that is not a number of milliseconds from 0 to 2^48, first or later', () => {
    for (const bad of [Number.NaN, -1, 2 ** 48, Number.POSITIVE_INFINITY]) {
      expect(() => new UlidSource().next(bad)).toThrow(RangeError);
      const ulids = new UlidSource();
      ulids.next(1_000);
      expect(() => ulids.next(bad)).toThrow(/ULID time must be milliseconds/);
    }
    expect(() => createStamper({ clock: () => Number.NaN })({ partitionKey: 'k', data: 'x' })).toThrow(/ULID time/);
  });

  it('carries an overflow of the last four characters into the rest of the random part', () => {
    let draws = 0;
    // Twelve draws for the head characters, then one for the last four: all ones.
    const ulids = new UlidSource(() => (draws++ < 12 ? 0.5 : 0.9999999));
    const next = (now: number) => ulids.next(now);
    const a = next(1000);
    const b = next(1000);
    expect(a.slice(-4)).toBe('ZZZZ');
    expect(b.slice(-4)).toBe('0000');
    expect(b > a).toBe(true);
    expect(a.slice(10, 22)).toBe('G'.repeat(12));
    expect(b.slice(10, 22)).toBe(`${'G'.repeat(11)}H`);
    expect(b.slice(0, 10)).toBe(a.slice(0, 10));
  });
});

describe('the send path encoding of stamped envelopes', () => {
  it('writes the same bytes as the general encoder, into a scratch buffer it grows when too small', async () => {
    const { encodeV2, encodeV2Into } = await import('../../src/envelope/codec-v2.js');
    const input = fc.record({
      partitionKey: fc.string({ minLength: 1, maxLength: 256, unit: 'grapheme' }),
      data: fc.oneof(fc.uint8Array({ minLength: 1, maxLength: 400 }), fc.string({ minLength: 1, maxLength: 50 }), fc.dictionary(fc.string(), fc.integer())),
      eventTime: fc.option(fc.oneof(fc.integer({ min: 0, max: 2 ** 48 - 1 }), fc.double({ noNaN: true, noDefaultInfinity: true })), { nil: undefined }),
    });
    const now = fc.oneof(fc.integer({ min: 0, max: 2 ** 48 - 1 }), fc.constant(1_700_000_000_000));
    fc.assert(
      fc.property(input, now, fc.option(fc.constantFrom('producer-1', 'prodücer'), { nil: undefined }), fc.boolean(), fc.boolean(), (record, at, producer, withKey, withProducer) => {
        const e = createStamper({ clock: () => at, ...(producer ? { producer } : {}) })(record);
        const scratch = { buffer: Buffer.alloc(8) };
        const length = encodeV2Into(e, withKey, withProducer, scratch);
        const buffer = scratch.buffer;
        // A spread copy is a plain object: the general path.
        expect(Buffer.from(buffer.subarray(0, length))).toEqual(Buffer.from(encodeV2({ ...e }, withKey, withProducer)));
        expect(decodeEnvelope(buffer.subarray(0, length), e.partitionKey)).toEqual({ ...e, ...(withProducer ? {} : { producer: undefined }), data: expect.anything() });
      }),
      { numRuns: 400 },
    );
  });

  it("writes each stamped id's 16 bytes from its source, not its string: within a millisecond, across a carry into the head, and after the clock moves", async () => {
    const { StampedEnvelope, encodeV2Into } = await import('../../src/envelope/codec-v2.js');
    let draws = 0;
    // Head characters from 0.5, the last four from 0.9999999 (ZZZZ): the second id of a millisecond carries.
    const source = new UlidSource(() => (draws++ % 13 < 12 ? 0.5 : 0.9999999));
    const seen: string[] = [];
    // Every envelope is made first and written afterwards: what an envelope keeps of its source must be its own.
    const envelopes = [1_000, 1_000, 1_000, 1_001, 1_001, 999, 5_000, 5_000].map((now) => {
      const id = source.next(now);
      seen.push(id);
      return new StampedEnvelope(id, 'key', now, now, 'application/octet-stream', 'producer-1', Buffer.from('x'), source);
    });
    for (const e of envelopes) {
      const id = e.id;
      const packed = Buffer.alloc(16);
      packUlid(id, packed, 0);
      const scratch = { buffer: Buffer.alloc(64) };
      const length = encodeV2Into(e, true, false, scratch); // the send path's encoder
      expect(Buffer.from(scratch.buffer.subarray(5, 21))).toEqual(packed);
      expect(decodeEnvelope(scratch.buffer.subarray(0, length)).id).toBe(id);
      const general = encodeEnvelope(e); // with the producer: the general encoder
      expect(Buffer.from(general.subarray(5, 21))).toEqual(packed);
      expect(decodeEnvelope(general).id).toBe(id);
    }
    expect(new Set(seen.map((id) => id.slice(0, 22))).size).toBe(6); // three milliseconds, each with a carry
    expect([...seen].sort()).toEqual(seen);
  });
});
