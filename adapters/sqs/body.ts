/**
 * How an envelope travels through SQS: the envelope's bytes (`encodeEnvelope`)
 * as base64 text in the message body, with no message attributes. SQS bodies
 * are text, and attributes count against the same size limit, so one opaque
 * base64 body is both the smallest and the simplest encoding.
 *
 * Size math: SQS takes 262,144 bytes per message (body plus attributes) and
 * per SendMessageBatch call (all bodies together). Base64 turns n bytes into
 * 4 × ceil(n / 3) characters, so an encoded envelope of at most
 * 3 × 262,144 / 4 = 196,608 bytes fits in one message.
 */
import { createHash } from 'node:crypto';
import { decodeEnvelope, encodeEnvelope, type Envelope, isEnvelopeBytes } from '../../src/envelope/index.js';

/** SQS: bytes per message and per SendMessageBatch call (the long-standing limit; queues created after 2025 may allow 1 MiB). */
export const SQS_MAX_CALL_BYTES = 262_144;
/** SQS: entries per SendMessageBatch, DeleteMessageBatch and ChangeMessageVisibilityBatch call. */
export const SQS_MAX_BATCH_ENTRIES = 10;
/** Largest encoded envelope whose base64 body fits in one SQS message. */
export const SQS_MAX_RECORD_BYTES = (SQS_MAX_CALL_BYTES / 4) * 3;

/** Characters of the base64 text of `bytes` bytes. */
export function base64Length(bytes: number): number {
  return 4 * Math.ceil(bytes / 3);
}

/** The SQS message body for an envelope. */
export function envelopeToBody(envelope: Envelope): string {
  const bytes = encodeEnvelope(envelope);
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64');
}

/** The envelope in an SQS body, or `undefined` when the body is not one spillway wrote. Throws MalformedEnvelopeError for a damaged or newer envelope. */
export function bodyToEnvelope(body: string): Envelope | undefined {
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(body) || body.length % 4 !== 0) return undefined;
  const bytes = Buffer.from(body, 'base64');
  return isEnvelopeBytes(bytes) ? decodeEnvelope(bytes) : undefined;
}

const GROUP_ID = /^[A-Za-z0-9!"#$%&'()*+,\-./:;<=>?@[\\\]^_`{|}~]{1,128}$/;

/**
 * A FIFO MessageGroupId for a partition key: the key itself when SQS allows
 * it (1-128 ASCII letters, digits and punctuation), otherwise `sha256:` and
 * the key's SHA-256 in hex. Either way one key maps to one group, so SQS
 * keeps per-key order.
 */
export function messageGroupIdFor(partitionKey: string): string {
  return GROUP_ID.test(partitionKey) ? partitionKey : `sha256:${createHash('sha256').update(partitionKey, 'utf8').digest('hex')}`;
}

/** Split items, in order, into calls of at most `maxEntries` items and `maxBytes` bytes (as `sizeOf` counts). */
export function splitIntoCalls<T>(items: readonly T[], sizeOf: (item: T) => number, maxEntries: number, maxBytes: number): T[][] {
  const calls: T[][] = [];
  let current: T[] = [];
  let bytes = 0;
  for (const item of items) {
    const size = sizeOf(item);
    if (current.length > 0 && (current.length >= maxEntries || bytes + size > maxBytes)) {
      calls.push(current);
      current = [];
      bytes = 0;
    }
    current.push(item);
    bytes += size;
  }
  if (current.length > 0) calls.push(current);
  return calls;
}
