import { RecordTooLargeError, ValidationError } from '../errors/index.js';
import { stampedRecordSize } from './codec.js';
import { producerExtensionSize, StampedEnvelope } from './codec-v2.js';
import { UlidSource } from './ulid-bytes.js';
import { KINESIS_MAX_PARTITION_KEY_CHARS, KINESIS_MAX_RECORD_BYTES } from './limits.js';
import type { ContentType, Envelope, RecordInput } from './types.js';

/** A source of wall-clock milliseconds; injected so tests control time. */
export type Clock = () => number;

/** Options for {@link createStamper}. */
export interface StamperOptions {
  clock?: Clock;
  /** Largest record as Kinesis counts it (encoded data plus partition key), in bytes. Defaults to the Kinesis limit. */
  maxRecordBytes?: number;
  /** This producer's instance id, stamped on every record. */
  producer?: string;
}

/** Turns a producer's input into a validated, stamped {@link Envelope}. */
export type Stamper = (input: RecordInput) => Envelope;

/**
 * Create a stamper. It validates first and throws a {@link ValidationError}
 * that says what to fix; a record that fails here is bad on every tier.
 */
export function createStamper(options: StamperOptions = {}): Stamper {
  const clock = options.clock ?? Date.now;
  const maxBytes = options.maxRecordBytes ?? KINESIS_MAX_RECORD_BYTES;
  const ulids = new UlidSource();
  const producer = options.producer;
  const producerBytes = producerExtensionSize(producer);
  return (input) => {
    if (typeof input !== 'object' || input === null) throw new ValidationError('record must be an object with partitionKey and data');
    validatePartitionKey(input.partitionKey);
    const data = toPayload(input.data);
    const contentType = contentTypeOf(input.data);
    const kind = input.kind ?? 'delta';
    if (kind !== 'delta' && kind !== 'snapshot') throw new ValidationError(`kind must be 'delta' or 'snapshot', got ${JSON.stringify(kind)}`);
    if (kind === 'delta' && input.coalesceKey !== undefined) {
      throw new ValidationError("coalesceKey is only meaningful for kind 'snapshot'; remove it or set kind: 'snapshot'");
    }
    if (input.coalesceKey !== undefined && (typeof input.coalesceKey !== 'string' || input.coalesceKey.length === 0)) {
      throw new ValidationError('coalesceKey must be a non-empty string');
    }
    if (input.explicitHashKey !== undefined) validateExplicitHashKey(input.explicitHashKey);
    const now = clock();
    const eventTime = toMillis(input.eventTime, now);
    const id = ulids.next(now);
    let envelope: Envelope;
    if (kind === 'delta' && input.explicitHashKey === undefined) {
      // The common shape, with no spreads: this runs once per record sent.
      envelope = new StampedEnvelope(id, input.partitionKey, eventTime, now, contentType, producer, data, ulids);
    } else {
      envelope = {
        id,
        partitionKey: input.partitionKey,
        kind,
        ...(kind === 'snapshot' ? { coalesceKey: input.coalesceKey ?? input.partitionKey } : {}),
        eventTime,
        sentTime: now,
        contentType,
        ...(input.explicitHashKey === undefined ? {} : { explicitHashKey: input.explicitHashKey }),
        ...(producer === undefined ? {} : { producer }),
        data,
      };
    }
    const size = stampedRecordSize(envelope, producerBytes);
    if (size > maxBytes) throw new RecordTooLargeError(size, maxBytes, { recordId: envelope.id });
    return envelope;
  };
}

function validatePartitionKey(key: unknown): asserts key is string {
  if (typeof key !== 'string') throw new ValidationError(`partitionKey must be a string, got ${typeof key}`);
  if (key.length === 0) throw new ValidationError('partitionKey is empty; give every record a key of 1 to 256 characters (it picks the shard and the order)');
  if (key.length <= KINESIS_MAX_PARTITION_KEY_CHARS) return; // UTF-16 units >= characters
  const chars = [...key].length;
  if (chars > KINESIS_MAX_PARTITION_KEY_CHARS) {
    throw new ValidationError(`partitionKey is ${chars} characters, over Kinesis' ${KINESIS_MAX_PARTITION_KEY_CHARS}; hash or shorten it`);
  }
}

const MAX_HASH_KEY = (1n << 128n) - 1n;

function validateExplicitHashKey(key: unknown): void {
  if (typeof key !== 'string' || !/^\d{1,39}$/.test(key) || BigInt(key) > MAX_HASH_KEY) {
    throw new ValidationError(`explicitHashKey must be a decimal integer from 0 to 2^128-1, got ${JSON.stringify(key)}; omit it to let the partition key pick the shard`);
  }
}

/** How `toPayload` reads a payload. */
function contentTypeOf(data: unknown): ContentType {
  if (data instanceof Uint8Array) return 'application/octet-stream';
  return typeof data === 'string' ? 'text/plain' : 'application/json';
}

/** The payload as bytes: bytes as they are, a string as UTF-8, anything else as JSON. */
function toPayload(data: unknown): Uint8Array {
  let out: Uint8Array;
  if (data instanceof Uint8Array) out = data;
  else if (typeof data === 'string') out = Buffer.from(data, 'utf8');
  else if (data === undefined) throw new ValidationError('data is missing; send bytes, a string or a JSON value');
  else {
    let json: string | undefined;
    try {
      json = JSON.stringify(data);
    } catch (cause) {
      throw new ValidationError('data could not be serialised as JSON; pass bytes or a JSON-safe value', { cause });
    }
    if (json === undefined) throw new ValidationError('data is not JSON-serialisable (a function or symbol?); pass bytes, a string or a JSON value');
    out = Buffer.from(json, 'utf8');
  }
  if (out.length === 0) throw new ValidationError('data is empty; Kinesis rejects empty records, so send at least one byte');
  return out;
}

function toMillis(value: Date | number | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  const ms = value instanceof Date ? value.getTime() : value;
  if (typeof ms !== 'number' || !Number.isFinite(ms)) throw new ValidationError('eventTime must be a Date or epoch milliseconds');
  return ms;
}
