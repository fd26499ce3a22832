/**
 * A Kinesis stream as a spillway {@link Target}: PutRecords with per-record
 * results, a DescribeStreamSummary probe, and every error classified.
 */
import { DescribeStreamSummaryCommand, KinesisClient, type PutRecordsResultEntry } from '@aws-sdk/client-kinesis';
import type { PutResult, Receipt, Target } from '../../src/contracts/index.js';
import { encodeEnvelope, encodeEnvelopeForKinesis, encodedSize, type Envelope, KINESIS_MAX_BATCH_BYTES, KINESIS_MAX_BATCH_RECORDS, KINESIS_MAX_RECORD_BYTES } from '../../src/envelope/index.js';
import { encodeV2Into } from '../../src/envelope/codec-v2.js';
import { type SpillwayError, TransientError } from '../../src/errors/index.js';
import { classifyAwsError, classifyEntryError } from '../aws/classify.js';
import { type AwsConnectionOptions, awsClientConfig } from '../aws/client-options.js';
import { aggregateByShard, ShardRanges } from './aggregation.js';
import { createPutRecordsClient, sendPutRecords } from './put-records-call.js';
import { type PutRecordsBody, putRecordsBody, putRecordsBodyOf } from './put-records-wire.js';
import { listStreamShards } from './shard-source.js';
import { withDeadline } from '../../src/failover/deadline.js';

/** Options for {@link createKinesisTarget}. */
export interface KinesisTargetOptions extends AwsConnectionOptions {
  stream: string;
  /** Abort a call that has not answered after this long (default 2000 ms). */
  requestTimeoutMs?: number;
  /**
   * Use this client instead of building one (the target then does not
   * destroy it). The target's own client caches its resolved middleware stack
   * (see put-records-call.ts); to add middleware of your own, pass a client.
   */
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
  const client = options.client ?? createPutRecordsClient(awsClientConfig(options));
  const ownsClient = options.client === undefined;
  const id = kinesisTargetId(options.region, options.stream);
  const context = { target: id, region: options.region, stream: options.stream };
  const timeoutMs = options.requestTimeoutMs ?? 2_000;
  const encodeOptions = { producer: options.omitProducer !== true };
  const encode = options.omitKeyFromData ? (e: Envelope) => encodeEnvelopeForKinesis(e, encodeOptions) : (e: Envelope) => encodeEnvelope(e, encodeOptions);
  const scratch = { buffer: Buffer.allocUnsafe(64 * 1024) };
  const writeEncoded = (e: Envelope, body: PutRecordsBody): void => {
    const length = encodeV2Into(e, options.omitKeyFromData !== true, encodeOptions.producer, scratch);
    body.base64(scratch.buffer, 0, length);
  };

  const raw = options.wire === 'none';
  const aggregation = options.aggregate && !raw ? { maxAggregateBytes: 51_200, maxBatchRecords: 10_000, ...(options.aggregate === true ? {} : options.aggregate) } : undefined;
  let ranges: { at: number; value: ShardRanges } | undefined;

  /** Open shards by hash range, cached for a minute (a reshard is seen within that). */
  async function shardRanges(signal: AbortSignal): Promise<ShardRanges> {
    if (!ranges || Date.now() - ranges.at > 60_000) {
      try {
        ranges = { at: Date.now(), value: new ShardRanges(await withDeadline(signal, timeoutMs, (abortSignal) => listStreamShards(client, options.stream, abortSignal))) };
      } catch (error) {
        throw classifyAwsError(error, context);
      }
    }
    return ranges.value;
  }

  /** One PutRecords call with `body` for `count` records; its per-entry results, or a classified error. */
  async function putRecords(body: Buffer, count: number, signal: AbortSignal): Promise<PutRecordsResultEntry[]> {
    let response;
    try {
      response = await withDeadline(signal, timeoutMs, (abortSignal) => sendPutRecords(client, options.stream, body, abortSignal));
    } catch (error) {
      throw classifyAwsError(error, context);
    }
    const entries = response.Records ?? [];
    if (entries.length !== count) {
      // An answered call: some records may have been written.
      throw new TransientError(`${id} answered PutRecords with ${entries.length} results for ${count} records`, { ...context, ambiguous: true });
    }
    return entries;
  }

  type Out = { failed: Array<{ envelope: Envelope; error: SpillwayError }>; receipts: Array<Receipt | undefined> };

  /** Record one entry's result for the record at `index` of the batch. */
  function settle(entry: PutRecordsResultEntry, envelope: Envelope, index: number, out: Out): void {
    if (entry.ErrorCode) {
      out.failed.push({ envelope, error: classifyEntryError(entry.ErrorCode, entry.ErrorMessage, { ...context, recordId: envelope.id }) });
    } else if (entry.ShardId && entry.SequenceNumber) {
      out.receipts[index] = { shardId: entry.ShardId, sequenceNumber: entry.SequenceNumber };
    } else {
      out.receipts[index] = { ...(entry.ShardId ? { shardId: entry.ShardId } : {}), ...(entry.SequenceNumber ? { sequenceNumber: entry.SequenceNumber } : {}) };
    }
  }

  async function putAggregated(batch: readonly Envelope[], signal: AbortSignal, maxAggregateBytes: number): Promise<PutResult> {
    const shards = await shardRanges(signal);
    // Aggregated by the records' places in the batch, so each receipt lands at its record's place.
    const places = Array.from(batch, (_, i) => i);
    const { entries: requests, members } = aggregateByShard(places, (i) => ({ partitionKey: (batch[i] as Envelope).partitionKey, data: encode(batch[i] as Envelope) }), shards, maxAggregateBytes);
    const out: Out = { failed: [], receipts: new Array<Receipt | undefined>(batch.length) };
    for (let from = 0; from < requests.length; from += KINESIS_MAX_BATCH_RECORDS) {
      let results: PutRecordsResultEntry[];
      try {
        const slice = requests.slice(from, from + KINESIS_MAX_BATCH_RECORDS);
        results = await putRecords(putRecordsBody(options.stream, slice), slice.length, signal);
      } catch (error) {
        if (from === 0) throw error;
        // Earlier calls were written: fail only what this and later calls carried.
        for (const group of members.slice(from)) for (const i of group) out.failed.push({ envelope: batch[i] as Envelope, error: error as SpillwayError });
        break;
      }
      results.forEach((entry, j) => {
        for (const i of members[from + j] as number[]) settle(entry, batch[i] as Envelope, i, out);
      });
    }
    return out;
  }

  async function put(batch: readonly Envelope[], signal: AbortSignal): Promise<PutResult> {
    if (aggregation) return putAggregated(batch, signal, aggregation.maxAggregateBytes);
    // Each envelope is encoded into one scratch buffer and copied into the body as base64: no buffer per record.
    const body = raw ? putRecordsBody(options.stream, batch) : putRecordsBodyOf(options.stream, batch, writeEncoded, encodedSize);
    const entries = await putRecords(body, batch.length, signal);
    const out: Out = { failed: [], receipts: new Array<Receipt | undefined>(batch.length) };
    for (let i = 0; i < entries.length; i++) settle(entries[i] as PutRecordsResultEntry, batch[i] as Envelope, i, out);
    return out;
  }

  async function probe(signal: AbortSignal): Promise<void> {
    let status: string | undefined;
    try {
      const out = await withDeadline(signal, timeoutMs, (abortSignal) => client.send(new DescribeStreamSummaryCommand({ StreamName: options.stream }), { abortSignal }));
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
