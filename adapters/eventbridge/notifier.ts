/**
 * Tells operations tooling about failovers on any EventBridge bus:
 * `spillway.failover` (records left a tier), `spillway.failback` (the
 * primary's breaker closed) and `spillway.drain.completed` (a reconciler run
 * that moved records, or stopped on an error).
 *
 * Invariants
 * - Never throws into the bus: a failed publish is logged and dropped.
 * - At most one event per detail type per `minIntervalMs`; events that come
 *   within the interval are folded into one summary published when it ends
 *   (`suppressed` counts them, `records` adds them up for failovers).
 */
import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import type { Logger } from 'pino';
import type { BusEventMap, BusEvents } from '../../src/events/bus-events.js';
import { type AwsConnectionOptions, awsClientConfig } from '../aws/client-options.js';
import { deadlineSignal } from '../../src/failover/deadline.js';

/** Options for {@link createEventBridgeNotifier}. */
export interface EventBridgeNotifierOptions extends AwsConnectionOptions {
  eventBusName: string;
  /** `Source` of the events (default `spillway`). */
  source?: string;
  /** Least time between two events of one detail type (default 10000 ms). */
  minIntervalMs?: number;
  logger?: Logger;
  /** Use this client instead of building one (then not destroyed on close). */
  client?: EventBridgeClient;
}

/** A notifier; attach it to one or more buses. */
export interface EventBridgeNotifier {
  /** Start publishing this bus's events; returns a function that stops. */
  attach(events: BusEvents): () => void;
  /** Publish what is pending, wait for publishes under way, release the client. */
  close(): Promise<void>;
}

type Detail = Record<string, unknown>;

interface Slot {
  lastAt: number;
  pending?: Detail;
  suppressed: number;
  timer?: NodeJS.Timeout;
}

/** Create a notifier. No network call is made until an event is published. */
export function createEventBridgeNotifier(options: EventBridgeNotifierOptions): EventBridgeNotifier {
  const client = options.client ?? new EventBridgeClient(awsClientConfig(options));
  const minIntervalMs = options.minIntervalMs ?? 10_000;
  const slots = new Map<string, Slot>();
  const inFlight = new Set<Promise<void>>();

  function publish(detailType: string, detail: Detail): void {
    const entry = { EventBusName: options.eventBusName, Source: options.source ?? 'spillway', DetailType: detailType, Detail: JSON.stringify({ ...detail, at: new Date().toISOString() }) };
    const p = client
      .send(new PutEventsCommand({ Entries: [entry] }), { abortSignal: deadlineSignal(undefined, 5_000) })
      .then((out) => {
        if (out.FailedEntryCount) options.logger?.warn({ detailType, code: out.Entries?.[0]?.ErrorCode }, 'EventBridge did not take a spillway notification; it is dropped.');
      })
      .catch((error: unknown) => options.logger?.warn({ detailType, err: error }, 'Could not publish a spillway notification to EventBridge; it is dropped.'))
      .finally(() => inFlight.delete(p));
    inFlight.add(p);
  }

  function flush(detailType: string, slot: Slot): void {
    slot.timer = undefined;
    if (!slot.pending) return;
    publish(detailType, { ...slot.pending, suppressed: slot.suppressed });
    slot.lastAt = Date.now();
    slot.pending = undefined;
    slot.suppressed = 0;
  }

  /** Publish now, or fold into the summary of the current interval. */
  function offer(detailType: string, detail: Detail, fold: (into: Detail, next: Detail) => Detail): void {
    const slot = slots.get(detailType) ?? { lastAt: -Infinity, suppressed: 0 };
    slots.set(detailType, slot);
    const now = Date.now();
    if (!slot.timer && now - slot.lastAt >= minIntervalMs) {
      slot.lastAt = now;
      publish(detailType, detail);
      return;
    }
    slot.pending = slot.pending ? fold(slot.pending, detail) : detail;
    slot.suppressed++;
    slot.timer ??= setTimeout(() => flush(detailType, slot), Math.max(0, slot.lastAt + minIntervalMs - now)).unref();
  }

  const latest = (_: Detail, next: Detail): Detail => next;
  const addRecords = (into: Detail, next: Detail): Detail => ({ ...next, records: Number(into['records'] ?? 0) + Number(next['records'] ?? 0) });

  return {
    attach(events) {
      const onFailover = (e: BusEventMap['bus.failover']) => offer('spillway.failover', { ...e }, addRecords);
      const onClose = (e: BusEventMap['breaker.close']) => {
        if (e.tier === 'primary') offer('spillway.failback', { target: e.target }, latest);
      };
      const onDone = (s: BusEventMap['reconciler.done']) => {
        if (s.written + s.skippedDuplicates + s.coalesced > 0 || s.error) offer('spillway.drain.completed', { ...s }, latest);
      };
      events.on('bus.failover', onFailover).on('breaker.close', onClose).on('reconciler.done', onDone);
      return () => {
        events.off('bus.failover', onFailover).off('breaker.close', onClose).off('reconciler.done', onDone);
      };
    },
    async close() {
      for (const [detailType, slot] of slots) {
        if (slot.timer) clearTimeout(slot.timer);
        flush(detailType, slot);
      }
      await Promise.all([...inFlight]);
      if (!options.client) client.destroy();
    },
  };
}
