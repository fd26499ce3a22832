/**
 * Reads a queue back for the reconciler: the SQS tier's own queue, or the
 * queue an EventBridge rule delivers to. One {@link DrainSource} per queue.
 *
 * Invariants
 * - A message is deleted only by `commit()` of the chunk it was read in, and
 *   `commit()` runs only after the primary acknowledged (or had already seen)
 *   every record of the chunk. `abandon()` makes the chunk's messages visible
 *   at once (ChangeMessageVisibility 0).
 * - While a chunk is neither committed nor abandoned, its messages' visibility
 *   timeout is extended on a timer, so a slow drain does not see them
 *   redelivered. If the process dies, they reappear after the timeout and are
 *   read again; the dedupe store skips the ids already written.
 * - Messages that are not spillway envelopes are never deleted: they are
 *   counted as `foreign` (once per source) and left to reappear after their
 *   visibility timeout.
 * - SQS does not keep order (a FIFO queue keeps it per message group). Each
 *   chunk is sorted by the envelope's send time, then id: order holds within
 *   what one chunk read, not across chunks.
 */
import { ReceiveMessageCommand, type Message, type SQSClient } from '@aws-sdk/client-sqs';
import type { Logger } from 'pino';
import type { DrainSource, SourceChunk } from '../../src/contracts/index.js';
import type { Envelope } from '../../src/envelope/index.js';
import { classifyAwsError } from '../aws/classify.js';
import { type QueueCalls, createQueueCalls } from './queue-calls.js';
import { withDeadline } from '../../src/failover/deadline.js';

/** Turns a message body into the envelope it carries, or `undefined` for one spillway did not write. May throw for a damaged envelope. */
export type BodyDecoder = (body: string) => Envelope | undefined;

/** Options for {@link createQueueDrainSource}. */
export interface QueueDrainOptions {
  client: SQSClient;
  queueUrl: string;
  /** Source id, e.g. `sqs:us-west-2:orders`. */
  id: string;
  region: string;
  decode: BodyDecoder;
  logger: Logger;
  /** Default 30. */
  visibilityTimeoutSeconds?: number;
  /** Long-poll wait of a chunk's first receive (default 1). */
  waitTimeSeconds?: number;
  /** Most messages in one chunk (default 1000). */
  maxChunkMessages?: number;
  /** Per-call timeout on top of the long-poll wait (default 5000 ms). */
  requestTimeoutMs?: number;
}

interface Held {
  envelope: Envelope;
  receiptHandle: string;
}

/** A drain source over one queue; see the module invariants. */
export function createQueueDrainSource(options: QueueDrainOptions): DrainSource {
  const visibility = options.visibilityTimeoutSeconds ?? 30;
  const waitSeconds = options.waitTimeSeconds ?? 1;
  const cap = options.maxChunkMessages ?? 1_000;
  const receive = (max: number, wait: number, signal: AbortSignal) => receiveMessages(options, { max, wait, visibility }, signal);
  const calls = createQueueCalls(options);
  const foreignSeen = new Set<string>();
  const open = new Map<SourceChunk, { held: Held[]; timer: NodeJS.Timeout }>();

  function release(chunk: SourceChunk): Held[] {
    const entry = open.get(chunk);
    if (!entry) return [];
    clearInterval(entry.timer);
    open.delete(chunk);
    return entry.held;
  }

  function hold(held: Held[], foreign: number): SourceChunk {
    const chunk: SourceChunk = {
      envelopes: held.map((h) => h.envelope),
      foreign,
      commit: () => calls.remove(release(chunk).map((h) => h.receiptHandle)),
    };
    if (held.length === 0) return chunk;
    const everyMs = Math.max(500, (visibility * 1_000) / 3);
    const timer = setInterval(() => void calls.extend(held.map((h) => h.receiptHandle), visibility).catch(() => undefined), everyMs).unref();
    open.set(chunk, { held, timer });
    return chunk;
  }

  return {
    id: options.id,
    async next(max, signal) {
      const limit = Math.max(1, Math.min(max, cap));
      const messages: Message[] = [];
      while (messages.length < limit) {
        let batch: Message[];
        try {
          batch = await receive(Math.min(10, limit - messages.length), messages.length === 0 ? waitSeconds : 0, signal);
        } catch (error) {
          if (messages.length === 0) throw error;
          break; // keep what was received (it is invisible now); the next call reports the failure
        }
        if (batch.length === 0) break;
        messages.push(...batch);
      }
      if (messages.length === 0) return undefined;
      const { held, foreign } = sortMessages(messages, options, foreignSeen);
      return hold(held, foreign);
    },
    async abandon(chunk) {
      await calls.extend(release(chunk).map((h) => h.receiptHandle), 0);
    },
  };
}

/** One ReceiveMessage call; errors classified. */
async function receiveMessages(options: QueueDrainOptions, call: { max: number; wait: number; visibility: number }, signal: AbortSignal): Promise<Message[]> {
  try {
    const out = await withDeadline(signal, call.wait * 1_000 + (options.requestTimeoutMs ?? 5_000), (abortSignal) =>
      options.client.send(new ReceiveMessageCommand({ QueueUrl: options.queueUrl, MaxNumberOfMessages: call.max, WaitTimeSeconds: call.wait, VisibilityTimeout: call.visibility }), { abortSignal }),
    );
    return out.Messages ?? [];
  } catch (error) {
    throw classifyAwsError(error, { target: options.id, region: options.region });
  }
}

/** Spillway's messages, sorted by send time then id; the others counted once per source as foreign. */
function sortMessages(messages: readonly Message[], options: QueueDrainOptions, foreignSeen: Set<string>): { held: Held[]; foreign: number } {
  const held: Held[] = [];
  let foreign = 0;
  for (const m of messages) {
    let envelope: Envelope | undefined;
    try {
      envelope = m.Body === undefined ? undefined : options.decode(m.Body);
    } catch (error) {
      options.logger.warn({ source: options.id, messageId: m.MessageId, err: error }, 'A queue message looks like a spillway envelope but does not decode; it is left in the queue.');
    }
    if (envelope && m.ReceiptHandle) held.push({ envelope, receiptHandle: m.ReceiptHandle });
    else if (!foreignSeen.has(m.MessageId ?? '')) {
      foreignSeen.add(m.MessageId ?? '');
      foreign++;
    }
  }
  held.sort((a, b) => a.envelope.sentTime - b.envelope.sentTime || (a.envelope.id < b.envelope.id ? -1 : a.envelope.id > b.envelope.id ? 1 : 0));
  return { held, foreign };
}

export type { QueueCalls };
