/**
 * The envelope codec: what every tier stores (see docs/wire-format.md).
 * Writes version 2, a compact binary header; reads versions 1 and 2.
 *
 * - `encodeEnvelope(e)`: self-contained bytes, the partition key inside
 *   (spool, SQS, EventBridge: carriers that keep no key beside the data).
 * - `encodeEnvelopeForKinesis(e)`: the partition key left out, since Kinesis
 *   keeps it beside the data; decode with `decodeEnvelope(data, partitionKey)`.
 */
import { MalformedEnvelopeError } from '../errors/index.js';
import { decodeEnvelopeV1 } from './codec-v1.js';
import { decodeEnvelopeV2, encodeV2, rememberedSize, StampedEnvelope, stampedSizeWithoutKey, utf8Length, v2Size } from './codec-v2.js';
import { varintLength } from './varint.js';
import type { Envelope } from './types.js';

const MAGIC = [0x53, 0x50, 0x57] as const;

/** What an encoding leaves out. */
export interface EncodeOptions {
  /** Keep the producer instance id (default true); a primary stream, read by everyone, does not need it. */
  producer?: boolean;
}

/** Encode an envelope to self-contained wire bytes (v2, partition key inside). */
export function encodeEnvelope(envelope: Envelope, options: EncodeOptions = {}): Uint8Array {
  return encodeV2(envelope, true, options.producer ?? true);
}

/**
 * Encode an envelope for a carrier that keeps the partition key beside the
 * data (Kinesis): v2 without the key. Readers need the record's key to decode.
 */
export function encodeEnvelopeForKinesis(envelope: Envelope, options: EncodeOptions = {}): Uint8Array {
  return encodeV2(envelope, false, options.producer ?? true);
}

/** Size in bytes of `encodeEnvelope(envelope)` (the larger, self-contained form), computed without encoding. */
export function encodedSize(envelope: Envelope): number {
  return rememberedSize(envelope) ?? v2Size(envelope, true);
}

/**
 * Bytes the record counts for against Kinesis' per-record limit: the data of
 * {@link encodeEnvelopeForKinesis} plus the UTF-8 partition key.
 */
export function kinesisRecordSize(envelope: Envelope): number {
  return v2Size(envelope, false) + utf8Length(envelope.partitionKey);
}

/**
 * {@link kinesisRecordSize} of an envelope the stamper has just made; a
 * {@link StampedEnvelope} also remembers its {@link encodedSize}, which the
 * send path asks for several times. `producerBytes` is
 * `producerExtensionSize(envelope.producer)`, which the stamper works out once.
 */
export function stampedRecordSize(envelope: Envelope, producerBytes: number): number {
  if (!StampedEnvelope.is(envelope)) return kinesisRecordSize(envelope);
  const keyBytes = utf8Length(envelope.partitionKey);
  const withoutKey = stampedSizeWithoutKey(envelope, producerBytes);
  StampedEnvelope.remember(envelope, withoutKey + varintLength(keyBytes) + keyBytes, keyBytes);
  return withoutKey + keyBytes;
}

/** True when the bytes start with the spillway magic (any version). */
export function isEnvelopeBytes(bytes: Uint8Array): boolean {
  return bytes.length >= 5 && bytes[0] === MAGIC[0] && bytes[1] === MAGIC[1] && bytes[2] === MAGIC[2];
}

/**
 * Decode wire bytes of version 1 or 2; throws {@link MalformedEnvelopeError}.
 * `partitionKey` is the key the carrier kept beside the data (a Kinesis
 * record's PartitionKey); it is needed for bytes from
 * {@link encodeEnvelopeForKinesis} and ignored when the bytes carry their own.
 */
export function decodeEnvelope(bytes: Uint8Array, partitionKey?: string): Envelope {
  if (!isEnvelopeBytes(bytes)) {
    throw new MalformedEnvelopeError('bytes do not start with the spillway envelope magic "SPW"; the record was not written by spillway');
  }
  if (bytes[3] === 2) return decodeEnvelopeV2(bytes, partitionKey);
  if (bytes[3] === 1) return decodeEnvelopeV1(bytes);
  throw new MalformedEnvelopeError(`envelope version ${bytes[3]} is not supported by this spillway (it reads versions 1 and 2); upgrade spillway`);
}

/** Read the payload as the producer meant it: bytes, text or parsed JSON. */
export function payloadOf(envelope: Envelope): Uint8Array | string | unknown {
  const text = (): string => Buffer.from(envelope.data.buffer, envelope.data.byteOffset, envelope.data.byteLength).toString('utf8');
  if (envelope.contentType === 'application/json') return JSON.parse(text());
  if (envelope.contentType === 'text/plain') return text();
  return envelope.data;
}
