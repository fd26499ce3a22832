/**
 * Turning a shard record into what the handler sees: the envelope decoded
 * when there is one; otherwise the bytes passed through with an id derived
 * from where the record sits (`raw:<region>:<stream>:<shardId>:<sequenceNumber>`),
 * which is stable across rereads of the same stream but not across tiers.
 */
import type { ShardRecord } from '../../adapters/kinesis/stream-reader.js';
import { decodeEnvelope, isEnvelopeBytes } from '../envelope/index.js';
import type { ConsumedRecord, ConsumedTier } from './types.js';

/** Where a shard sits. */
export interface ShardOrigin {
  tier: ConsumedTier;
  region: string;
  stream: string;
  shardId: string;
  source: string;
}

/** The id given to a record without a spillway envelope. */
export function rawRecordId(origin: ShardOrigin, sequenceNumber: string, subSequenceNumber?: number): string {
  const at = `raw:${origin.region}:${origin.stream}:${origin.shardId}:${sequenceNumber}`;
  return subSequenceNumber === undefined ? at : `${at}:${subSequenceNumber}`;
}

/** Where a record unpacked from an aggregate sits in it. */
export interface SubRecord {
  subSequenceNumber: number;
  subSequenceCount: number;
}

/**
 * The key a record's progress is tracked by within its shard: the sequence
 * number, except for the records of an aggregate before its last, which get
 * `<sequenceNumber>#<subSequenceNumber>` and never become a checkpoint (a
 * checkpoint at an aggregate's sequence number means all of it is finished).
 */
export function progressKey(record: Pick<ConsumedRecord, 'sequenceNumber' | 'subSequenceNumber' | 'subSequenceCount'>): string {
  const sub = record.subSequenceNumber;
  return sub === undefined || sub === (record.subSequenceCount as number) - 1 ? record.sequenceNumber : `${record.sequenceNumber}#${sub}`;
}

/** True for a progress key that may be written as a checkpoint. */
export function isCheckpointable(key: string): boolean {
  return !key.includes('#');
}

/** Decode one record (one user record of an aggregate, with `sub`); a damaged envelope is passed through raw rather than lost. */
export function toConsumedRecord(record: ShardRecord, origin: ShardOrigin, sub?: SubRecord): ConsumedRecord {
  const { tier, region, stream, shardId, source } = origin;
  const sequenceNumber = record.sequenceNumber;
  if (isEnvelopeBytes(record.data)) {
    try {
      const e = decodeEnvelope(record.data, record.partitionKey); // a Kinesis target may leave the key out of the data (omitKeyFromData)
      const { id, data, partitionKey, eventTime, sentTime, kind, contentType } = e;
      const out = { id, data, partitionKey, eventTime, sentTime, kind, contentType, enveloped: true, tier, region, stream, shardId, source, sequenceNumber };
      return sub ? { ...out, ...sub } : out;
    } catch {
      // not readable as an envelope: delivered as raw bytes below
    }
  }
  const at = record.arrivedAt;
  return {
    ...sub,
    id: rawRecordId(origin, sequenceNumber, sub?.subSequenceNumber),
    data: record.data,
    partitionKey: record.partitionKey,
    eventTime: at,
    sentTime: at,
    kind: 'delta',
    contentType: 'application/octet-stream',
    enveloped: false,
    tier,
    region,
    stream,
    shardId,
    source,
    sequenceNumber,
  };
}
