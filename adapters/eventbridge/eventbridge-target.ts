/**
 * An EventBridge bus as a spillway {@link Target}: PutEvents with per-entry
 * results (`FailedEntryCount`), a DescribeEventBus probe, every error
 * classified. The envelope travels in `Detail` (see detail.ts).
 */
import { DescribeEventBusCommand, EventBridgeClient, PutEventsCommand, type PutEventsRequestEntry } from '@aws-sdk/client-eventbridge';
import type { PutResult, Target } from '../../src/contracts/index.js';
import type { Envelope } from '../../src/envelope/index.js';
import { type ErrorContext, type SpillwayError, TargetRejectedError, TransientError } from '../../src/errors/index.js';
import { classifyAwsError, classifyEntryError } from '../aws/classify.js';
import { type AwsConnectionOptions, awsClientConfig } from '../aws/client-options.js';
import { type CallFailures, putInCalls } from '../sqs/batch-put.js';
import { EVENTBRIDGE_MAX_BATCH_ENTRIES, EVENTBRIDGE_MAX_CALL_BYTES, EVENTBRIDGE_MAX_ENTRY_BYTES, EVENTBRIDGE_MAX_RECORD_BYTES, entryBytes, envelopeToDetail } from './detail.js';
import { busNameOf } from './schema.js';
import { withDeadline } from '../../src/failover/deadline.js';

/** `Source` of spillway's record events unless configured. */
export const DEFAULT_SOURCE = 'spillway';
/** `DetailType` of spillway's record events unless configured. */
export const DEFAULT_DETAIL_TYPE = 'spillway.record';

/** Options for {@link createEventBridgeTarget}. */
export interface EventBridgeTargetOptions extends AwsConnectionOptions {
  eventBusName: string;
  source?: string;
  detailType?: string;
  /** Abort a call that has not answered after this long (default 2000 ms). */
  requestTimeoutMs?: number;
  /** Use this client instead of building one (the target then does not destroy it). */
  client?: EventBridgeClient;
}

/** An EventBridge target, with its client. */
export interface EventBridgeTarget extends Target {
  readonly client: EventBridgeClient;
  readonly eventBusName: string;
  readonly region: string;
}

/** `eventbridge:<region>:<bus>`, the id of an EventBridge target. */
export function eventBridgeTargetId(region: string, eventBusName: string): string {
  return `eventbridge:${region}:${busNameOf(eventBusName)}`;
}

/** PutEvents entry codes that EventBridge gives the same entry every time (bad entry, or not allowed): never retried here. */
const REFUSED_ENTRY = new Set(['MalformedDetail', 'InvalidArgument', 'NotAuthorizedForSourceException', 'NotAuthorizedForDetailTypeException']);

/** Classify one failed PutEvents entry: refused entries move to the next tier at once; the rest as the shared classifier says. */
export function classifyEventBridgeEntry(code: string, message: string | undefined, context: ErrorContext): SpillwayError {
  if (REFUSED_ENTRY.has(code)) return new TargetRejectedError(`${context.target ?? 'eventbridge'} refused the record: ${code}: ${message ?? ''}`.trim(), context);
  return classifyEntryError(code, message, context);
}

/** Create an EventBridge target. No network call is made until the first put or probe. */
export function createEventBridgeTarget(options: EventBridgeTargetOptions): EventBridgeTarget {
  const client = options.client ?? new EventBridgeClient(awsClientConfig(options));
  const ownsClient = options.client === undefined;
  const id = eventBridgeTargetId(options.region, options.eventBusName);
  const context = { target: id, region: options.region };
  const source = options.source ?? DEFAULT_SOURCE;
  const detailType = options.detailType ?? DEFAULT_DETAIL_TYPE;
  const timeoutMs = options.requestTimeoutMs ?? 2_000;
  const details = new WeakMap<Envelope, string>();
  const detailOf = (e: Envelope): string => {
    let detail = details.get(e);
    if (detail === undefined) details.set(e, (detail = envelopeToDetail(e)));
    return detail;
  };

  const toEntry = (envelope: Envelope): PutEventsRequestEntry => ({
    EventBusName: options.eventBusName,
    Source: source,
    DetailType: detailType,
    Detail: detailOf(envelope),
    Time: new Date(envelope.sentTime),
  });

  async function send(call: readonly Envelope[], signal: AbortSignal): Promise<CallFailures> {
    const out = await withDeadline(signal, timeoutMs, (abortSignal) => client.send(new PutEventsCommand({ Entries: call.map(toEntry) }), { abortSignal }));
    const results = out.Entries ?? [];
    const failures = new Map<number, SpillwayError>();
    if (results.length !== call.length) {
      // Answered, but not entry by entry: any of them may have been put.
      const error = new TransientError(`${id} answered PutEvents with ${results.length} results for ${call.length} entries`, { ...context, ambiguous: true });
      call.forEach((_, i) => failures.set(i, error));
      return failures;
    }
    results.forEach((entry, i) => {
      if (entry.ErrorCode || !entry.EventId) {
        failures.set(i, classifyEventBridgeEntry(entry.ErrorCode ?? 'InternalFailure', entry.ErrorMessage, { ...context, recordId: call[i]?.id }));
      }
    });
    return failures;
  }

  async function put(batch: readonly Envelope[], signal: AbortSignal): Promise<PutResult> {
    return putInCalls(batch, {
      context,
      entrySize: (e) => entryBytes(source, detailType, detailOf(e)),
      maxEntryBytes: EVENTBRIDGE_MAX_ENTRY_BYTES,
      maxEntries: EVENTBRIDGE_MAX_BATCH_ENTRIES,
      maxCallBytes: EVENTBRIDGE_MAX_CALL_BYTES,
      send,
    }, signal);
  }

  async function probe(signal: AbortSignal): Promise<void> {
    try {
      await withDeadline(signal, timeoutMs, (abortSignal) => client.send(new DescribeEventBusCommand({ Name: options.eventBusName }), { abortSignal }));
    } catch (error) {
      throw classifyAwsError(error, context);
    }
  }

  return {
    id,
    client,
    eventBusName: options.eventBusName,
    region: options.region,
    maxBatchRecords: EVENTBRIDGE_MAX_BATCH_ENTRIES,
    maxBatchBytes: EVENTBRIDGE_MAX_RECORD_BYTES,
    maxRecordBytes: EVENTBRIDGE_MAX_RECORD_BYTES,
    put,
    probe,
    async close() {
      if (ownsClient) client.destroy();
    },
  };
}
