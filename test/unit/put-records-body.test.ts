/**
 * PutRecords request bodies built in one buffer: the same JSON as
 * `JSON.stringify` of the request would give (data as base64), every byte
 * ASCII, for any data, any keys and explicit hash keys.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { putRecordsBody, putRecordsBodyOf } from '../../adapters/kinesis/put-records-wire.js';

describe('putRecordsBody', () => {
  it('is the request JSON, in ASCII, whatever the data, the keys and the size guessed for it', () => {
    // Any UTF-16 code units, lone surrogates and control characters included.
    const anyText = (maxLength: number) => fc.string({ minLength: 1, maxLength, unit: 'binary' });
    const entry = fc.record(
      {
        data: fc.oneof(
          fc.uint8Array({ minLength: 0, maxLength: 600 }),
          // Both sides of the 256 bytes where base64 moves from the JS loop to Node's encoder, and every tail length.
          fc.integer({ min: 250, max: 262 }).chain((n) => fc.uint8Array({ minLength: n, maxLength: n })),
          fc.integer({ min: 0, max: 5 }).chain((n) => fc.uint8Array({ minLength: n, maxLength: n })),
        ),
        partitionKey: fc.oneof(
          fc.string({ minLength: 1, maxLength: 40 }),
          fc.string({ minLength: 1, maxLength: 20, unit: 'grapheme' }),
          anyText(20),
          fc.constantFrom('plain', 'a"b', 'c\\d', 'e\nf', 'caf\u00e9', 'del\u007f', '\u2603', '\ud83d\ude00', '\ud800', 'x\udc00y'),
        ),
        explicitHashKey: fc.option(fc.oneof(fc.bigInt({ min: 0n, max: (1n << 128n) - 1n }).map(String), anyText(10)), { nil: undefined }),
      },
      { requiredKeys: ['data', 'partitionKey'] },
    );
    const guesses = { exact: (n: number) => n, none: () => 0, 'not a number': () => Number.NaN, negative: () => -1, 'far over': (n: number) => n * 50 + 1_000_000 };
    const write = (e: { data: Uint8Array }, body: Parameters<Parameters<typeof putRecordsBodyOf>[2]>[1]) => body.base64(e.data, 0, e.data.length);
    fc.assert(
      fc.property(fc.oneof(fc.string({ minLength: 1, maxLength: 30 }), anyText(30)), fc.array(entry, { maxLength: 30 }), fc.constantFrom(...(Object.keys(guesses) as Array<keyof typeof guesses>)), (stream, entries, guess) => {
        const items = entries.map((e) => ({ ...e, data: Buffer.from(e.data) }));
        const body = putRecordsBodyOf(stream, items, write, (e) => guesses[guess](e.data.length));
        expect(body.every((b) => b < 0x80)).toBe(true);
        const expected = {
          StreamName: stream,
          Records: entries.map((e) => ({ Data: Buffer.from(e.data).toString('base64'), PartitionKey: e.partitionKey, ...(e.explicitHashKey === undefined ? {} : { ExplicitHashKey: e.explicitHashKey }) })),
        };
        expect(JSON.parse(body.toString('latin1'))).toEqual(expected);
        expect(putRecordsBody(stream, items).equals(body)).toBe(true);
      }),
      { numRuns: 400 },
    );
  });

  it('is the same body whether its size was guessed short, exactly or far over, and holds no more memory than it needs', () => {
    const entries = Array.from({ length: 300 }, (_, i) => ({ data: Buffer.alloc(i * 7, i), partitionKey: `key-${i}` }));
    const write = (e: (typeof entries)[number], body: Parameters<Parameters<typeof putRecordsBodyOf>[2]>[1]) => body.base64(e.data, 0, e.data.length);
    const exact = putRecordsBody('s', entries);
    const short = putRecordsBodyOf('s', entries, write, () => 0);
    const over = putRecordsBodyOf('s', entries, write, (e) => e.data.length * 20 + 100_000);
    expect(short.equals(exact)).toBe(true);
    expect(over.equals(exact)).toBe(true);
    // A call holds its body until it ends: a body sized far over what it took is copied out, not kept as a view.
    expect(over.buffer.byteLength).toBeLessThan(exact.length * 2);
  });

  it('holds records far bigger than its scratch buffer, and many records', () => {
    const big = Buffer.alloc(300_000);
    for (let i = 0; i < big.length; i++) big[i] = (i * 7) & 0xff;
    const entries = [{ data: big, partitionKey: 'big' }, ...Array.from({ length: 500 }, (_, i) => ({ data: Buffer.from(`r${i}`), partitionKey: `k${i}` }))];
    const parsed = JSON.parse(putRecordsBody('s', entries).toString('latin1')) as { Records: Array<{ Data: string; PartitionKey: string }> };
    expect(parsed.Records).toHaveLength(501);
    expect(Buffer.from(parsed.Records[0]?.Data ?? '', 'base64').equals(big)).toBe(true);
    expect(parsed.Records[500]).toEqual({ Data: Buffer.from('r499').toString('base64'), PartitionKey: 'k499' });
  });
});
