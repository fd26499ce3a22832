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
  const place = { tier: origin.tier, region: origin.region, stream: origin.stream, shardId: origin.shardId, source: origin.source, sequenceNumber: record.sequenceNumber };
  if (isEnvelopeBytes(record.data)) {
    try {
      const e = decodeEnvelope(record.data);
      return { ...place, id: e.id, data: e.data, partitionKey: e.partitionKey, eventTime: e.eventTime, sentTime: e.sentTime, kind: e.kind, contentType: e.contentType, enveloped: true };
    } catch {
      // not readable as an envelope: delivered as raw bytes below
    }
  }
  return {
    ...place,
    id: rawRecordId(origin, record.sequenceNumber),
    data: record.data,
    partitionKey: record.partitionKey,
    eventTime: record.arrivedAt,
    sentTime: record.arrivedAt,
    kind: 'delta',
    contentType: 'application/octet-stream',
    enveloped: false,
  };
}
