/**
 * The v2 extensions: the explicit hash key and the producer id survive every
 * encoding that keeps them, a primary stream is written without the producer
 * id, and a reader skips an extension tag it does not know.
 */
import { describe, expect, it } from 'vitest';
import { createStamper, decodeEnvelope, encodedSize, encodeEnvelope, encodeEnvelopeForKinesis } from '../../src/envelope/index.js';
import { ValidationError } from '../../src/errors/index.js';

const stamp = createStamper({ producer: 'p-0123456789ab' });

describe('envelope extensions', () => {
  it('round-trips the explicit hash key and the producer id, self-contained and for Kinesis', () => {
    const e = stamp({ partitionKey: 'k', data: 'x', explicitHashKey: '340282366920938463463374607431768211455' });
    for (const back of [decodeEnvelope(encodeEnvelope(e)), decodeEnvelope(encodeEnvelopeForKinesis(e), 'k')]) {
      expect(back.explicitHashKey).toBe('340282366920938463463374607431768211455');
      expect(back.producer).toBe('p-0123456789ab');
      expect(back.id).toBe(e.id);
    }
    expect(encodeEnvelope(e).length).toBe(encodedSize(e));
  });

  it('leaves the producer id out when asked (a primary stream), and costs nothing without extensions', () => {
    const e = stamp({ partitionKey: 'k', data: 'x' });
    const without = decodeEnvelope(encodeEnvelope(e, { producer: false }));
    expect(without.producer).toBeUndefined();
    const plain = createStamper()({ partitionKey: 'k', data: 'x' });
    expect(encodeEnvelope(e).length - encodeEnvelope(plain).length).toBe(1 + 1 + 1 + 'p-0123456789ab'.length);
    expect(encodeEnvelope(e, { producer: false }).length).toBe(encodeEnvelope(plain).length);
  });

  it('skips an extension tag it does not know', () => {
    const e = stamp({ partitionKey: 'k', data: 'payload' });
    const bytes = Buffer.from(encodeEnvelope(e));
    // The producer extension is the only one: count 1, tag 2. Rewrite the tag to an unknown 9.
    const tagAt = bytes.indexOf(Buffer.from([1, 2, 'p-0123456789ab'.length])) + 1;
    expect(tagAt).toBeGreaterThan(0);
    bytes[tagAt] = 9;
    const back = decodeEnvelope(bytes);
    expect(back.producer).toBeUndefined();
    expect(Buffer.from(back.data).toString()).toBe('payload');
  });

  it('refuses an explicit hash key that is not a 128-bit decimal', () => {
    expect(() => stamp({ partitionKey: 'k', data: 'x', explicitHashKey: '340282366920938463463374607431768211456' })).toThrow(ValidationError);
    expect(() => stamp({ partitionKey: 'k', data: 'x', explicitHashKey: 'abc' })).toThrow(/decimal integer/);
  });
});
