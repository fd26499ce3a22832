/** The SQS tier's encoding, limits and configuration, without a queue. */
import { describe, expect, it } from 'vitest';
import { bodyToEnvelope, envelopeToBody, messageGroupIdFor, SQS_MAX_RECORD_BYTES, sqsDescriptor } from '../../adapters/sqs/index.js';
import { base64Length, splitIntoCalls } from '../../adapters/sqs/body.js';
import { isFifoQueueUrl, queueNameOf } from '../../adapters/sqs/schema.js';
import { classifySqsEntry } from '../../adapters/sqs/sqs-target.js';
import { isAmbiguousFailure } from '../../src/errors/index.js';
import { encodedSize } from '../../src/envelope/index.js';
import { makeEnvelope, plain } from '../helpers/spool-fixtures.js';

const URL_STD = 'https://sqs.us-west-2.amazonaws.com/123456789012/orders';

describe('SQS body encoding', () => {
  it('round-trips an envelope through a base64 body', () => {
    const e = makeEnvelope(7, 'body', 300);
    const body = envelopeToBody(e);
    expect(body).toMatch(/^[A-Za-z0-9+/]+=*$/);
    expect(body.length).toBe(base64Length(encodedSize(e)));
    expect(plain(bodyToEnvelope(body)!)).toEqual(plain(e));
  });

  it('tells bodies spillway did not write apart: undefined, never a throw', () => {
    expect(bodyToEnvelope('{"order":1}')).toBeUndefined();
    expect(bodyToEnvelope(Buffer.from('hello world').toString('base64'))).toBeUndefined();
    expect(bodyToEnvelope('')).toBeUndefined();
  });

  it('advertises the largest encoded record whose base64 fits 256 KiB', () => {
    expect(SQS_MAX_RECORD_BYTES).toBe(196_608);
    expect(base64Length(SQS_MAX_RECORD_BYTES)).toBe(262_144);
    expect(base64Length(SQS_MAX_RECORD_BYTES + 1)).toBeGreaterThan(262_144);
    expect(sqsDescriptor.maxRecordBytes).toBe(SQS_MAX_RECORD_BYTES);
  });

  it('maps a partition key to a FIFO group id SQS accepts, the same key to the same group', () => {
    expect(messageGroupIdFor('customer-42')).toBe('customer-42');
    const unicode = messageGroupIdFor('kunde-äöü');
    expect(unicode).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(messageGroupIdFor('kunde-äöü')).toBe(unicode);
    expect(messageGroupIdFor('x'.repeat(129))).toMatch(/^sha256:/);
    expect(messageGroupIdFor('x'.repeat(128))).toBe('x'.repeat(128));
  });

  it('splits entries into calls by count and by size, in order', () => {
    const sizes = [100, 100, 100, 250, 10, 10];
    expect(splitIntoCalls(sizes, (n) => n, 10, 300)).toEqual([[100, 100, 100], [250, 10, 10]]);
    expect(splitIntoCalls([1, 2, 3, 4, 5], (n) => n, 2, 1_000)).toEqual([[1, 2], [3, 4], [5]]);
    expect(splitIntoCalls([500], (n) => n, 10, 300)).toEqual([[500]]);
  });
});

describe('SQS configuration', () => {
  it('accepts a queue URL and names the queue', () => {
    const config = sqsDescriptor.schema.parse({ kind: 'sqs', region: 'us-west-2', queueUrl: URL_STD });
    expect(sqsDescriptor.describe(config)).toBe('sqs us-west-2/orders');
    expect(queueNameOf(URL_STD)).toBe('orders');
    expect(isFifoQueueUrl(`${URL_STD}.fifo`)).toBe(true);
    expect(sqsDescriptor.describe({ ...config, queueUrl: `${URL_STD}.fifo` })).toBe('sqs us-west-2/orders.fifo (FIFO)');
  });

  it('rejects bad fields with messages that say what to write', () => {
    const issues = (input: Record<string, unknown>) => {
      const r = sqsDescriptor.schema.safeParse({ kind: 'sqs', region: 'us-west-2', queueUrl: URL_STD, ...input });
      return r.success ? [] : r.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
    };
    expect(issues({ queueUrl: 'orders' })).toEqual(['queueUrl: "orders" is not an SQS queue URL; copy the URL from the console or "aws sqs get-queue-url"']);
    expect(issues({ region: 'us-east-l' })).toEqual([expect.stringMatching(/^region: "us-east-l" is not a known AWS region; did you mean "us-east-1"\?/)]);
    expect(issues({ waitTimeSeconds: 21 })).toHaveLength(1);
    expect(issues({ stream: 'x' })).toHaveLength(1); // strict: a Kinesis field is a mistake here
    expect(issues({})).toEqual([]);
  });
});

describe('SQS entry failures', () => {
  const ctx = { target: 'sqs:us-west-2:orders', recordId: 'r1' };
  it('a sender fault is refused here for good (moves on), not retried', () => {
    const e = classifySqsEntry({ Code: 'InvalidMessageContents', Message: 'Invalid characters', SenderFault: true }, ctx);
    expect(e.code).toBe('spillway:target-rejected');
    expect(e.message).toBe('sqs:us-west-2:orders refused the record: InvalidMessageContents: Invalid characters');
    expect(e.recordId).toBe('r1');
  });
  it('throttling codes back off on the same queue; server faults are transient and answered (not ambiguous)', () => {
    expect(classifySqsEntry({ Code: 'RequestThrottled', SenderFault: false }, ctx).code).toBe('spillway:throttled');
    expect(classifySqsEntry({ Code: 'KmsThrottled', SenderFault: false }, ctx).code).toBe('spillway:throttled');
    const internal = classifySqsEntry({ Code: 'InternalError', SenderFault: false }, ctx);
    expect(internal.code).toBe('spillway:transient');
    expect(isAmbiguousFailure(internal)).toBe(false);
  });
});
