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
import { encodeEnvelope, encodeEnvelopeForKinesis, type Envelope, KINESIS_MAX_BATCH_BYTES, KINESIS_MAX_BATCH_RECORDS } from '../../src/envelope/index.js';
import { type SpillwayError, TransientError } from '../../src/errors/index.js';
import { classifyAwsError, classifyEntryError } from '../aws/classify.js';
import { type AwsConnectionOptions, awsClientConfig } from '../aws/client-options.js';

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
  const encode = options.omitKeyFromData ? encodeEnvelopeForKinesis : encodeEnvelope;
  const callSignal = (signal: AbortSignal): AbortSignal => AbortSignal.any([signal, AbortSignal.timeout(timeoutMs)]);

  async function put(batch: readonly Envelope[], signal: AbortSignal): Promise<PutResult> {
    const records: PutRecordsRequestEntry[] = new Array(batch.length);
    for (let i = 0; i < batch.length; i++) {
      const e = batch[i] as Envelope;
      records[i] = { Data: encode(e), PartitionKey: e.partitionKey };
    }
    let response;
    try {
      response = await client.send(new PutRecordsCommand({ StreamName: options.stream, Records: records }), { abortSignal: callSignal(signal) });
    } catch (error) {
      throw classifyAwsError(error, context);
    }
    const entries = response.Records ?? [];
    if (entries.length !== batch.length) {
      // An answered call: some records may have been written.
      throw new TransientError(`${id} answered PutRecords with ${entries.length} results for ${batch.length} records`, { ...context, ambiguous: true });
    }
    const failed: Array<{ envelope: Envelope; error: SpillwayError }> = [];
    const receipts = new Map<string, Receipt>();
    for (let i = 0; i < entries.length; i++) {
      const entry = entries[i] as PutRecordsResultEntry;
      const envelope = batch[i] as Envelope;
      if (entry.ErrorCode) {
        failed.push({ envelope, error: classifyEntryError(entry.ErrorCode, entry.ErrorMessage, { ...context, recordId: envelope.id }) });
      } else if (entry.ShardId && entry.SequenceNumber) {
        receipts.set(envelope.id, { shardId: entry.ShardId, sequenceNumber: entry.SequenceNumber });
      } else {
        receipts.set(envelope.id, { ...(entry.ShardId ? { shardId: entry.ShardId } : {}), ...(entry.SequenceNumber ? { sequenceNumber: entry.SequenceNumber } : {}) });
      }
    }
    return { failed, receipts };
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
    maxBatchRecords: KINESIS_MAX_BATCH_RECORDS,
    maxBatchBytes: KINESIS_MAX_BATCH_BYTES,
    put,
    probe,
    async close() {
      if (ownsClient) client.destroy();
    },
  };
}
