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
export function rawRecordId(origin: ShardOrigin, sequenceNumber: string): string {
  return `raw:${origin.region}:${origin.stream}:${origin.shardId}:${sequenceNumber}`;
}

/** Decode one record; a damaged envelope is passed through raw rather than lost. */
export function toConsumedRecord(record: ShardRecord, origin: ShardOrigin): ConsumedRecord {
  const { tier, region, stream, shardId, source } = origin;
  const sequenceNumber = record.sequenceNumber;
  if (isEnvelopeBytes(record.data)) {
    try {
      const e = decodeEnvelope(record.data, record.partitionKey); // a Kinesis target may leave the key out of the data (omitKeyFromData)
      const { id, data, partitionKey, eventTime, sentTime, kind, contentType } = e;
      return { id, data, partitionKey, eventTime, sentTime, kind, contentType, enveloped: true, tier, region, stream, shardId, source, sequenceNumber };
    } catch {
      // not readable as an envelope: delivered as raw bytes below
    }
  }
  const at = record.arrivedAt;
  return {
    id: rawRecordId(origin, sequenceNumber),
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
