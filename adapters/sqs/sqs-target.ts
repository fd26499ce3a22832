/**
 * An SQS queue as a spillway {@link Target}: SendMessageBatch with per-entry
 * results, a GetQueueAttributes probe, every error classified. Standard and
 * FIFO queues; on FIFO the MessageGroupId is the partition key (see
 * {@link messageGroupIdFor}) and the MessageDeduplicationId the record id, so
 * SQS itself drops a resend of the same record within its 5-minute window.
 */
import { GetQueueAttributesCommand, SendMessageBatchCommand, type SendMessageBatchRequestEntry, SQSClient } from '@aws-sdk/client-sqs';
import type { PutResult, Target } from '../../src/contracts/index.js';
import { type Envelope, encodedSize } from '../../src/envelope/index.js';
import { type ErrorContext, type SpillwayError, TargetRejectedError, ThrottledError, TransientError } from '../../src/errors/index.js';
import { classifyAwsError, classifyEntryError } from '../aws/classify.js';
import { type AwsConnectionOptions, awsClientConfig } from '../aws/client-options.js';
import { type CallFailures, putInCalls } from './batch-put.js';
import { base64Length, envelopeToBody, messageGroupIdFor, SQS_MAX_BATCH_ENTRIES, SQS_MAX_CALL_BYTES, SQS_MAX_RECORD_BYTES } from './body.js';
import { isFifoQueueUrl, queueNameOf } from './schema.js';
import { withDeadline } from '../../src/failover/deadline.js';

/** Options for {@link createSqsTarget}. */
export interface SqsTargetOptions extends AwsConnectionOptions {
  queueUrl: string;
  /** Abort a call that has not answered after this long (default 2000 ms). */
  requestTimeoutMs?: number;
  /** Use this client instead of building one (the target then does not destroy it). */
  client?: SQSClient;
}

/** An SQS target, with the client it uses (the drain source shares it). */
export interface SqsTarget extends Target {
  readonly client: SQSClient;
  readonly queueUrl: string;
  readonly region: string;
  readonly fifo: boolean;
}

/** `sqs:<region>:<queueName>`, the id of an SQS target. */
export function sqsTargetId(region: string, queueUrl: string): string {
  return `sqs:${region}:${queueNameOf(queueUrl) ?? queueUrl}`;
}

/** An SQS client for spillway: one attempt per call, HTTP/1.1, the endpoint override used for every queue URL. */
export function createSqsClient(options: AwsConnectionOptions): SQSClient {
  return new SQSClient({ ...awsClientConfig(options), useQueueUrlAsEndpoint: options.endpoint === undefined });
}

/**
 * Spillway's batch limit in its own units (encoded envelope plus partition
 * key, before base64): a full batch of that size fits one SendMessageBatch
 * call after base64 in all but rare rounding cases, which the target splits.
 */
export const SQS_MAX_BATCH_BYTES = SQS_MAX_RECORD_BYTES;

/** SQS entry codes the shared classifier does not know as throttling. */
const SQS_THROTTLED = new Set(['KmsThrottled', 'OverLimit']);

/**
 * Classify one failed SendMessageBatch entry. `SenderFault` means SQS will
 * refuse this entry every time: a TargetRejectedError, so it moves to the
 * next tier at once instead of being retried here.
 */
export function classifySqsEntry(entry: { Code?: string; Message?: string; SenderFault?: boolean }, context: ErrorContext): SpillwayError {
  const code = entry.Code ?? 'InternalError';
  if (SQS_THROTTLED.has(code)) return new ThrottledError(`${context.target ?? 'sqs'} is throttling writes (${code}); backing off on the same target`, context);
  if (entry.SenderFault) return new TargetRejectedError(`${context.target ?? 'sqs'} refused the record: ${code}: ${entry.Message ?? ''}`.trim(), context);
  return classifyEntryError(code, entry.Message, context);
}

/** Create an SQS target. No network call is made until the first put or probe. */
export function createSqsTarget(options: SqsTargetOptions): SqsTarget {
  const client = options.client ?? createSqsClient(options);
  const ownsClient = options.client === undefined;
  const id = sqsTargetId(options.region, options.queueUrl);
  const context = { target: id, region: options.region };
  const fifo = isFifoQueueUrl(options.queueUrl);
  const timeoutMs = options.requestTimeoutMs ?? 2_000;

  const toEntry = (envelope: Envelope, index: number): SendMessageBatchRequestEntry => ({
    Id: String(index),
    MessageBody: envelopeToBody(envelope),
    ...(fifo ? { MessageGroupId: messageGroupIdFor(envelope.partitionKey), MessageDeduplicationId: envelope.id } : {}),
  });

  async function send(call: readonly Envelope[], signal: AbortSignal): Promise<CallFailures> {
    const out = await withDeadline(signal, timeoutMs, (abortSignal) => client.send(new SendMessageBatchCommand({ QueueUrl: options.queueUrl, Entries: call.map(toEntry) }), { abortSignal }));
    const failures = new Map<number, SpillwayError>();
    for (const f of out.Failed ?? []) {
      const index = Number(f.Id);
      failures.set(index, classifySqsEntry(f, { ...context, recordId: call[index]?.id }));
    }
    const succeeded = new Set((out.Successful ?? []).map((s) => Number(s.Id)));
    call.forEach((envelope, index) => {
      if (!succeeded.has(index) && !failures.has(index)) {
        failures.set(index, new TransientError(`${id} answered SendMessageBatch without a result for record ${envelope.id}`, { ...context, recordId: envelope.id, ambiguous: true }));
      }
    });
    return failures;
  }

  async function put(batch: readonly Envelope[], signal: AbortSignal): Promise<PutResult> {
    return putInCalls(batch, {
      context,
      entrySize: (e) => base64Length(encodedSize(e)),
      maxEntryBytes: SQS_MAX_CALL_BYTES,
      maxEntries: SQS_MAX_BATCH_ENTRIES,
      maxCallBytes: SQS_MAX_CALL_BYTES,
      send,
    }, signal);
  }

  async function probe(signal: AbortSignal): Promise<void> {
    try {
      await withDeadline(signal, timeoutMs, (abortSignal) => client.send(new GetQueueAttributesCommand({ QueueUrl: options.queueUrl, AttributeNames: ['QueueArn'] }), { abortSignal }));
    } catch (error) {
      throw classifyAwsError(error, context);
    }
  }

  return {
    id,
    client,
    queueUrl: options.queueUrl,
    region: options.region,
    fifo,
    maxBatchRecords: SQS_MAX_BATCH_ENTRIES,
    maxBatchBytes: SQS_MAX_BATCH_BYTES,
    maxRecordBytes: SQS_MAX_RECORD_BYTES,
    put,
    probe,
    async close() {
      if (ownsClient) client.destroy();
    },
  };
}
