/**
 * `check()` for queue tiers: GetQueueAttributes, with a missing queue or one
 * that cannot hold spillway's records told apart (a ConfigError naming the
 * field and the fix) from an unreachable service (`reachable: false`).
 */
import { GetQueueAttributesCommand, type SQSClient } from '@aws-sdk/client-sqs';
import type { TierCheck } from '../../src/contracts/index.js';
import { ConfigError } from '../../src/errors/index.js';
import { classifyAwsError } from '../aws/classify.js';
import { SQS_MAX_CALL_BYTES } from './body.js';
import { isFifoQueueUrl } from './schema.js';
import { deadlineSignal } from '../../src/failover/deadline.js';

/** Error names SQS gives for a queue that does not exist (JSON and query protocols). */
const MISSING_QUEUE = new Set(['QueueDoesNotExist', 'AWS.SimpleQueueService.NonExistentQueue']);
/** Error names that mean this identity may not use the queue. */
const DENIED = new Set(['AccessDenied', 'AccessDeniedException', 'UnrecognizedClientException', 'InvalidClientTokenId', 'InvalidSignatureException', 'ExpiredTokenException']);

/** What {@link checkQueue} needs. */
export interface CheckQueueOptions {
  client: SQSClient;
  queueUrl: string;
  /** Dotted path of the queue URL in the configuration, e.g. `secondaries.0.queueUrl`. */
  field: string;
  id: string;
  region: string;
  signal: AbortSignal;
  requestTimeoutMs?: number;
}

/** True for an SDK error that says the queue does not exist. */
export function isMissingQueueError(error: unknown): boolean {
  const e = error as { name?: string; Code?: string };
  return MISSING_QUEUE.has(e?.name ?? '') || MISSING_QUEUE.has(e?.Code ?? '');
}

/** Probe a queue; never throws. */
export async function checkQueue(options: CheckQueueOptions): Promise<TierCheck> {
  const context = { target: options.id, region: options.region };
  let attributes: Record<string, string>;
  try {
    const signal = deadlineSignal(options.signal, options.requestTimeoutMs ?? 5_000);
    const out = await options.client.send(new GetQueueAttributesCommand({ QueueUrl: options.queueUrl, AttributeNames: ['All'] }), { abortSignal: signal });
    attributes = out.Attributes ?? {};
  } catch (error) {
    const name = (error as { name?: string })?.name ?? '';
    if (isMissingQueueError(error)) {
      return misconfigured(`${options.field}: queue ${options.queueUrl} does not exist in ${options.region}; create it or correct ${options.field}`, options.field, error);
    }
    if (DENIED.has(name)) {
      return { reachable: true, writable: false, detail: `${options.id}: access denied (${name}); grant sqs:SendMessage, sqs:ReceiveMessage, sqs:DeleteMessage, sqs:ChangeMessageVisibility and sqs:GetQueueAttributes on the queue`, error: classifyAwsError(error, context) };
    }
    const classified = classifyAwsError(error, context);
    return { reachable: false, writable: false, detail: `${options.id} did not answer GetQueueAttributes: ${classified.message}`, error: classified };
  }
  return judgeAttributes(options, attributes);
}

function judgeAttributes(options: CheckQueueOptions, attributes: Record<string, string>): TierCheck {
  const fifo = attributes['FifoQueue'] === 'true';
  if (fifo !== isFifoQueueUrl(options.queueUrl)) {
    return misconfigured(`${options.field}: the queue says FifoQueue=${fifo} but its name ${fifo ? 'lacks' : 'ends in'} ".fifo"; check ${options.field}`, options.field);
  }
  const maxSize = Number(attributes['MaximumMessageSize'] ?? SQS_MAX_CALL_BYTES);
  if (maxSize < SQS_MAX_CALL_BYTES) {
    return misconfigured(
      `${options.field}: the queue's MaximumMessageSize is ${maxSize} bytes; spillway sends messages of up to ${SQS_MAX_CALL_BYTES} bytes, so set MaximumMessageSize to at least ${SQS_MAX_CALL_BYTES}`,
      options.field,
    );
  }
  const kind = fifo ? 'FIFO' : 'standard';
  return { reachable: true, writable: true, detail: `${options.id}: ${kind} queue, ${attributes['ApproximateNumberOfMessages'] ?? '?'} messages waiting, visibility timeout ${attributes['VisibilityTimeout'] ?? '?'} s` };
}

function misconfigured(message: string, field: string, cause?: unknown): TierCheck {
  const error = new ConfigError(message, { field, ...(cause === undefined ? {} : { cause }) });
  return { reachable: true, writable: false, detail: message, error };
}
