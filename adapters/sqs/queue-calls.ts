/**
 * The batch calls a queue drain makes on messages it holds: delete them
 * (DeleteMessageBatch) and change their visibility (ChangeMessageVisibilityBatch),
 * ten receipt handles a call, failed entries retried once.
 */
import { ChangeMessageVisibilityBatchCommand, DeleteMessageBatchCommand, type SQSClient } from '@aws-sdk/client-sqs';
import type { Logger } from 'pino';
import { classifyAwsError } from '../aws/classify.js';
import { SQS_MAX_BATCH_ENTRIES } from './body.js';
import { withDeadline } from '../../src/failover/deadline.js';

/** Batch calls on received messages. */
export interface QueueCalls {
  /** Delete the messages. Whole-call failures throw (classified); entries that still fail after a retry are logged: they reappear and the dedupe store skips them. */
  remove(receiptHandles: readonly string[]): Promise<void>;
  /** Set the messages' visibility timeout, in seconds (0: visible now). Whole-call failures throw. */
  extend(receiptHandles: readonly string[], seconds: number): Promise<void>;
}

/** What {@link createQueueCalls} needs. */
export interface QueueCallsOptions {
  client: SQSClient;
  queueUrl: string;
  id: string;
  region: string;
  logger: Logger;
  requestTimeoutMs?: number;
}

type Entry = { Id: string; ReceiptHandle: string };
type Failed = ReadonlyArray<{ Id?: string; Code?: string; Message?: string }>;

/** Create the batch calls for one queue. */
export function createQueueCalls(options: QueueCallsOptions): QueueCalls {
  const context = { target: options.id, region: options.region };
  const timeoutMs = options.requestTimeoutMs ?? 5_000;

  async function inBatches(handles: readonly string[], what: string, call: (entries: Entry[]) => Promise<Failed>): Promise<void> {
    for (let i = 0; i < handles.length; i += SQS_MAX_BATCH_ENTRIES) {
      let entries = handles.slice(i, i + SQS_MAX_BATCH_ENTRIES).map((h, n) => ({ Id: String(n), ReceiptHandle: h }));
      let failed: Failed = [];
      for (let attempt = 0; attempt < 2 && entries.length > 0; attempt++) {
        try {
          failed = await call(entries);
        } catch (error) {
          throw classifyAwsError(error, context);
        }
        const ids = new Set(failed.map((f) => f.Id));
        entries = entries.filter((e) => ids.has(e.Id));
      }
      if (failed.length > 0) {
        options.logger.warn({ source: options.id, messages: failed.length, code: failed[0]?.Code, reason: failed[0]?.Message }, `Could not ${what} some queue messages; they reappear after their visibility timeout and are skipped as already written.`);
      }
    }
  }

  return {
    remove: (handles) =>
      inBatches(handles, 'delete', async (Entries) => {
        const out = await withDeadline(undefined, timeoutMs, (abortSignal) => options.client.send(new DeleteMessageBatchCommand({ QueueUrl: options.queueUrl, Entries }), { abortSignal }));
        return out.Failed ?? [];
      }),
    extend: (handles, seconds) =>
      inBatches(handles, seconds === 0 ? 'release' : 'extend the visibility of', async (entries) => {
        const Entries = entries.map((e) => ({ ...e, VisibilityTimeout: seconds }));
        const out = await withDeadline(undefined, timeoutMs, (abortSignal) => options.client.send(new ChangeMessageVisibilityBatchCommand({ QueueUrl: options.queueUrl, Entries }), { abortSignal }));
        return out.Failed ?? [];
      }),
  };
}
