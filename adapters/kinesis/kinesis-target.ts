/**
 * A Kinesis stream as a spillway {@link Target}: PutRecords with per-record
 * results, a DescribeStreamSummary probe, and every error classified.
 */
import {
  DescribeStreamSummaryCommand,
  KinesisClient,
  PutRecordsCommand,
  type PutRecordsRequestEntry,
  type PutRecordsResultEntry,
} from '@aws-sdk/client-kinesis';
import type { PutResult, Receipt, Target } from '../../src/contracts/index.js';
import { encodeEnvelope, encodeEnvelopeForKinesis, type Envelope, KINESIS_MAX_BATCH_BYTES, KINESIS_MAX_BATCH_RECORDS, KINESIS_MAX_RECORD_BYTES } from '../../src/envelope/index.js';
import { type SpillwayError, TransientError } from '../../src/errors/index.js';
import { classifyAwsError, classifyEntryError } from '../aws/classify.js';
import { type AwsConnectionOptions, awsClientConfig } from '../aws/client-options.js';
import { aggregateByShard, ShardRanges } from './aggregation.js';
import { listStreamShards } from './shard-source.js';

/** Options for {@link createKinesisTarget}. */
export interface KinesisTargetOptions extends AwsConnectionOptions {
  stream: string;
  /** Abort a call that has not answered after this long (default 2000 ms). */
  requestTimeoutMs?: number;
  /** Use this client instead of building one (the target then does not destroy it). */
  client?: KinesisClient;
  /**
   * Leave the partition key out of the record's data (default false): it
   * travels beside the data in Kinesis, which saves its length plus one or two
   * bytes per record. Every reader must then decode with the record's key,
   * `decodeEnvelope(data, partitionKey)`.
   */
  omitKeyFromData?: boolean;
  /**
   * Pack small records into KPL-compatible aggregates (see aggregation.ts), one
   * shard per aggregate, for many more records per call. Readers must
   * de-aggregate (`deaggregate`, or any KCL-compatible consumer). Off by default.
   */
  aggregate?: boolean | { maxAggregateBytes?: number; maxBatchRecords?: number };
  /**
   * What the stream receives: `spillway` (default) the encoded envelope;
   * `none` exactly the producer's bytes, partition key and explicit hash key,
   * for consumers that read the stream without spillway (never aggregated).
   */
  wire?: 'spillway' | 'none';
  /** Leave the producer instance id out of the envelope (a primary, where no reconciler needs it). */
  omitProducer?: boolean;
}

/** A Kinesis target, with the client it uses (for readers that share it). */
export interface KinesisTarget extends Target {
  readonly client: KinesisClient;
  readonly stream: string;
  readonly region: string;
}

/** `kinesis:<region>:<stream>`, the id every Kinesis target and source uses. */
export function kinesisTargetId(region: string, stream: string): string {
  return `kinesis:${region}:${stream}`;
}

/** Create a Kinesis target. No network call is made until the first put or probe. */
export function createKinesisTarget(options: KinesisTargetOptions): KinesisTarget {
  const client = options.client ?? new KinesisClient(awsClientConfig(options));
  const ownsClient = options.client === undefined;
  const id = kinesisTargetId(options.region, options.stream);
  const context = { target: id, region: options.region, stream: options.stream };
  const timeoutMs = options.requestTimeoutMs ?? 2_000;
  const encodeOptions = { producer: options.omitProducer !== true };
  const encode = options.omitKeyFromData ? (e: Envelope) => encodeEnvelopeForKinesis(e, encodeOptions) : (e: Envelope) => encodeEnvelope(e, encodeOptions);
  const callSignal = (signal: AbortSignal): AbortSignal => AbortSignal.any([signal, AbortSignal.timeout(timeoutMs)]);

  const raw = options.wire === 'none';
  const aggregation = options.aggregate && !raw ? { maxAggregateBytes: 51_200, maxBatchRecords: 10_000, ...(options.aggregate === true ? {} : options.aggregate) } : undefined;
  let ranges: { at: number; value: ShardRanges } | undefined;

  /** Open shards by hash range, cached for a minute (a reshard is seen within that). */
  async function shardRanges(signal: AbortSignal): Promise<ShardRanges> {
    if (!ranges || Date.now() - ranges.at > 60_000) {
      try {
        ranges = { at: Date.now(), value: new ShardRanges(await listStreamShards(client, options.stream, callSignal(signal))) };
      } catch (error) {
        throw classifyAwsError(error, context);
      }
    }
    return ranges.value;
  }

  /** One PutRecords call; its per-entry results, or a classified error. */
  async function putRecords(records: PutRecordsRequestEntry[], signal: AbortSignal): Promise<PutRecordsResultEntry[]> {
    let response;
    try {
      response = await client.send(new PutRecordsCommand({ StreamName: options.stream, Records: records }), { abortSignal: callSignal(signal) });
    } catch (error) {
      throw classifyAwsError(error, context);
    }
    const entries = response.Records ?? [];
    if (entries.length !== records.length) {
      // An answered call: some records may have been written.
      throw new TransientError(`${id} answered PutRecords with ${entries.length} results for ${records.length} records`, { ...context, ambiguous: true });
    }
    return entries;
  }

  /** Record one entry's result for every envelope it carried. */
  function settle(entry: PutRecordsResultEntry, envelopes: readonly Envelope[], out: PutResult & { receipts: Map<string, Receipt> }): void {
    for (const envelope of envelopes) {
      if (entry.ErrorCode) {
        (out.failed as Array<{ envelope: Envelope; error: SpillwayError }>).push({ envelope, error: classifyEntryError(entry.ErrorCode, entry.ErrorMessage, { ...context, recordId: envelope.id }) });
      } else if (entry.ShardId && entry.SequenceNumber) {
        out.receipts.set(envelope.id, { shardId: entry.ShardId, sequenceNumber: entry.SequenceNumber });
      } else {
        out.receipts.set(envelope.id, { ...(entry.ShardId ? { shardId: entry.ShardId } : {}), ...(entry.SequenceNumber ? { sequenceNumber: entry.SequenceNumber } : {}) });
      }
    }
  }

  async function putAggregated(batch: readonly Envelope[], signal: AbortSignal, maxAggregateBytes: number): Promise<PutResult> {
    const shards = await shardRanges(signal);
    const { entries: requests, members } = aggregateByShard(batch, (e) => ({ partitionKey: e.partitionKey, data: encode(e) }), shards, maxAggregateBytes);
    const out = { failed: [] as Array<{ envelope: Envelope; error: SpillwayError }>, receipts: new Map<string, Receipt>() };
    for (let from = 0; from < requests.length; from += KINESIS_MAX_BATCH_RECORDS) {
      let results: PutRecordsResultEntry[];
      try {
        results = await putRecords(requests.slice(from, from + KINESIS_MAX_BATCH_RECORDS), signal);
      } catch (error) {
        if (from === 0) throw error;
        // Earlier calls were written: fail only what this and later calls carried.
        for (const group of members.slice(from)) for (const envelope of group) out.failed.push({ envelope, error: error as SpillwayError });
        break;
      }
      results.forEach((entry, j) => settle(entry, members[from + j] as Envelope[], out));
    }
    return out;
  }

  async function put(batch: readonly Envelope[], signal: AbortSignal): Promise<PutResult> {
    if (aggregation) return putAggregated(batch, signal, aggregation.maxAggregateBytes);
    const records: PutRecordsRequestEntry[] = new Array(batch.length);
    for (let i = 0; i < batch.length; i++) {
      const e = batch[i] as Envelope;
      const entry: PutRecordsRequestEntry = { Data: raw ? e.data : encode(e), PartitionKey: e.partitionKey };
      if (e.explicitHashKey !== undefined) entry.ExplicitHashKey = e.explicitHashKey;
      records[i] = entry;
    }
    const entries = await putRecords(records, signal);
    const out = { failed: [] as Array<{ envelope: Envelope; error: SpillwayError }>, receipts: new Map<string, Receipt>() };
    const one: Envelope[] = [];
    for (let i = 0; i < entries.length; i++) {
      one[0] = batch[i] as Envelope;
      settle(entries[i] as PutRecordsResultEntry, one, out);
    }
    return out;
  }

  async function probe(signal: AbortSignal): Promise<void> {
    let status: string | undefined;
    try {
      const out = await client.send(new DescribeStreamSummaryCommand({ StreamName: options.stream }), { abortSignal: callSignal(signal) });
      status = out.StreamDescriptionSummary?.StreamStatus;
    } catch (error) {
      throw classifyAwsError(error, context);
    }
    if (status !== 'ACTIVE' && status !== 'UPDATING') {
      throw new TransientError(`${id} is ${status ?? 'in an unknown state'}, not ACTIVE`, context);
    }
  }

  return {
    id,
    client,
    stream: options.stream,
    region: options.region,
    // Aggregates take many records per entry; leave room for their framing under the 5 MiB call limit.
    maxBatchRecords: aggregation ? aggregation.maxBatchRecords : KINESIS_MAX_BATCH_RECORDS,
    maxBatchBytes: aggregation ? Math.floor(KINESIS_MAX_BATCH_BYTES * 0.9) : KINESIS_MAX_BATCH_BYTES,
    maxRecordBytes: KINESIS_MAX_RECORD_BYTES,
    put,
    probe,
    async close() {
      if (ownsClient) client.destroy();
    },
  };
}
