/**
 * Prometheus metrics for a bus, through prom-client, into a `Registry` the
 * caller owns (spillway never touches the global registry). Built on the
 * bus's events plus a `stats()` snapshot read at scrape time; send latency
 * and per-record outcomes come from `instrumentBus`, which wraps `send`.
 */
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import type { BatchItemResult, Bus, BusStats, SendResult } from '../bus/bus.js';
import { AllTiersFailedError, hasCode, isValidationError } from '../errors/index.js';
import type { BusEventMap, BusEvents, TierName } from '../events/bus-events.js';
import type { LandedOn } from '../failover/router.js';

/** Breaker state as a number: 0 closed, 1 half-open, 2 open. */
export const BREAKER_STATE_VALUE = { closed: 0, halfOpen: 1, open: 2 } as const;

/** Options for {@link attachMetrics}. */
export interface MetricsOptions {
  /** The bus's snapshot, read once per scrape. */
  stats: () => Promise<BusStats>;
}

/** The metrics of one bus. */
export interface BusMetrics {
  /** Count one send's outcome and time it. */
  observeSend(outcome: { ok: true; result: SendResult } | { ok: false; error: unknown }, seconds: number): void;
  /** Count the outcomes of one `sendBatch`, each record timed with the whole call's `seconds`. */
  observeBatch(results: readonly BatchItemResult[], seconds: number): void;
  /** Remove every metric from the registry and unsubscribe. */
  detach(): void;
}

type Outcome = 'acknowledged' | 'failed_over' | 'failed' | 'rejected';

/** Register spillway's metrics in `registry` and feed them from `events` and `options.stats`. */
export function attachMetrics(events: BusEvents, registry: Registry, options: MetricsOptions): BusMetrics {
  const registers = [registry];
  const snapshot = sharedStats(options.stats);
  const tierOf = new Map<string, TierName>();
  const learnTiers = (s: BusStats): void => {
    for (const b of s.breakers) tierOf.set(b.target, b.tier as TierName);
  };
  void snapshot().then(learnTiers, () => undefined);

  const records = new Counter({ name: 'spillway_records_total', help: 'Records by tier, target and outcome (acknowledged, failed_over to the next tier, failed everywhere, rejected as invalid).', labelNames: ['tier', 'target', 'outcome'], registers });
  const duration = new Histogram({ name: 'spillway_send_duration_seconds', help: 'Time from send() to its outcome, failovers included, by the tier that took the record (none: not stored).', labelNames: ['tier'], buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2, 2.5, 5, 10], registers });
  const drained = new Counter({ name: 'spillway_drain_records_total', help: 'Records the reconciler handled, by result (written to the primary, duplicate skipped, coalesced snapshot dropped).', labelNames: ['result'], registers });
  const dedupe = new Counter({ name: 'spillway_dedupe_hits_total', help: 'Records the reconciler skipped because the primary already had them.', registers });
  const transitions = new Counter({ name: 'spillway_breaker_transitions_total', help: 'Breaker state changes, by target and new state.', labelNames: ['target', 'state'], registers });
  let landedOutside = 0;
  let drainedTotal = 0;
  const gauges = snapshotGauges(registers, snapshot, learnTiers, () => landedOutside - drainedTotal);

  const onFailover = ({ from, to, records: n }: BusEventMap['bus.failover']): void => {
    records.inc({ tier: tierOf.get(from) ?? 'primary', target: from, outcome: 'failed_over' }, n);
  };
  const onProgress = ({ written, skippedDuplicates, coalesced }: BusEventMap['reconciler.progress']): void => {
    drained.inc({ result: 'written' }, written);
    drained.inc({ result: 'duplicate' }, skippedDuplicates);
    drained.inc({ result: 'coalesced' }, coalesced);
    dedupe.inc(skippedDuplicates);
    drainedTotal += written + skippedDuplicates + coalesced;
  };
  const onState = (state: 'open' | 'halfOpen' | 'closed') => ({ target }: { target: string }) => transitions.inc({ target, state });
  const stateHandlers = { 'breaker.open': onState('open'), 'breaker.halfOpen': onState('halfOpen'), 'breaker.close': onState('closed') } as const;
  events.on('bus.failover', onFailover).on('reconciler.progress', onProgress);
  for (const [name, handler] of Object.entries(stateHandlers)) events.on(name as 'breaker.open', handler);

  /** Count `n` records with one outcome's labels, each timed at `seconds`. */
  const count = (labels: OutcomeLabels, n: number, seconds: number): void => {
    records.inc(labels, n);
    const acknowledged = labels.outcome === 'acknowledged';
    if (acknowledged && labels.tier !== 'primary') landedOutside += n;
    const timer = duration.labels({ tier: acknowledged ? labels.tier : 'none' });
    for (let i = 0; i < n; i++) timer.observe(seconds);
  };

  return {
    observeSend(outcome, seconds) {
      count(outcomeLabels(outcome.ok ? { ok: true, landedOn: outcome.result.landedOn } : outcome), 1, seconds);
    },
    observeBatch(results, seconds) {
      // Counted per label set, not per record: a batch holds up to 500 records of a few kinds.
      const counts = new Map<string, { labels: OutcomeLabels; n: number }>();
      for (const r of results) {
        const labels = outcomeLabels(r);
        const key = `${labels.tier}\u0000${labels.target}\u0000${labels.outcome}`;
        const entry = counts.get(key);
        if (entry) entry.n++;
        else counts.set(key, { labels, n: 1 });
      }
      for (const { labels, n } of counts.values()) count(labels, n, seconds);
    },
    detach() {
      events.off('bus.failover', onFailover).off('reconciler.progress', onProgress);
      for (const [name, handler] of Object.entries(stateHandlers)) events.off(name as 'breaker.open', handler);
      for (const m of [records, duration, drained, dedupe, transitions, ...gauges]) registry.removeSingleMetric((m as unknown as { name: string }).name);
    },
  };
}

/** Gauges read from the bus's snapshot at scrape time. */
function snapshotGauges(registers: Registry[], snapshot: () => Promise<BusStats>, seen: (s: BusStats) => void, counted: () => number): Gauge[] {
  return [
    new Gauge({ name: 'spillway_breaker_state', help: 'Breaker state per target: 0 closed, 1 half-open, 2 open.', labelNames: ['target', 'tier'], registers, async collect() {
      const s = await snapshot();
      seen(s);
      for (const b of s.breakers) if (b.tier !== 'spool') this.set({ target: b.target, tier: b.tier }, BREAKER_STATE_VALUE[b.state]);
    } }),
    new Gauge({ name: 'spillway_spool_records', help: 'Records held in the spool, not yet drained.', registers, async collect() {
      this.set((await snapshot()).spool.records);
    } }),
    new Gauge({ name: 'spillway_spool_bytes', help: 'Bytes those spooled records take.', registers, async collect() {
      this.set((await snapshot()).spool.bytes);
    } }),
    new Gauge({ name: 'spillway_backlog_records', help: 'Records outside the primary waiting for a drain: at least the spool depth; secondaries as counted by this process since it started.', registers, async collect() {
      this.set(Math.max((await snapshot()).spool.records, counted()));
    } }),
    new Gauge({ name: 'spillway_queued_records', help: 'Sends waiting in the batcher or in flight.', registers, async collect() {
      this.set((await snapshot()).queued);
    } }),
  ];
}

/** The `spillway_records_total` labels of one record's outcome. */
type OutcomeLabels = { tier: string; target: string; outcome: Outcome };

/** The labels of one record: where it landed, or where it failed and whether it was invalid or failed everywhere. */
function outcomeLabels(r: { ok: true; landedOn: LandedOn } | { ok: false; error: unknown }): OutcomeLabels {
  if (r.ok) return { tier: r.landedOn.tier, target: r.landedOn.target, outcome: 'acknowledged' };
  const error = r.error;
  if (isValidationError(error)) return { tier: 'none', target: (error as { target?: string }).target ?? 'none', outcome: 'rejected' };
  if (hasCode(error, AllTiersFailedError.code)) {
    const last = (error as AllTiersFailedError).failures.at(-1);
    return { tier: last?.tier ?? 'spool', target: last?.target ?? 'unknown', outcome: 'failed' };
  }
  return { tier: 'none', target: 'none', outcome: 'failed' };
}

/** One stats call serves every gauge of a scrape: callers share the call in flight. */
function sharedStats(stats: () => Promise<BusStats>): () => Promise<BusStats> {
  let inFlight: Promise<BusStats> | undefined;
  return () => {
    inFlight ??= stats().finally(() => {
      inFlight = undefined;
    });
    return inFlight;
  };
}

/**
 * Wrap a bus so every `send` and `sendBatch` is timed and counted in
 * `registry`; closing the wrapped bus removes its metrics.
 */
export function instrumentBus(bus: Bus, registry: Registry, options: Omit<MetricsOptions, 'stats'> = {}): Bus {
  const metrics = attachMetrics(bus.events, registry, { ...options, stats: () => bus.stats() });
  const timedSend: Bus['send'] = async (input) => {
    const started = performance.now();
    try {
      const result = await bus.send(input);
      metrics.observeSend({ ok: true, result }, (performance.now() - started) / 1000);
      return result;
    } catch (error) {
      metrics.observeSend({ ok: false, error }, (performance.now() - started) / 1000);
      throw error;
    }
  };
  return {
    events: bus.events,
    send: timedSend,
    async sendBatch(inputs, options) {
      const started = performance.now();
      let results: BatchItemResult[];
      try {
        results = await bus.sendBatch(inputs, options);
      } catch (error) {
        // Refused whole (`rejectInvalid`, a closed bus): nothing was sent; counted once, as the one error it is.
        metrics.observeSend({ ok: false, error }, (performance.now() - started) / 1000);
        throw error;
      }
      metrics.observeBatch(results, (performance.now() - started) / 1000);
      return results;
    },
    reconcile: () => bus.reconcile(),
    plan: () => bus.plan(),
    stats: () => bus.stats(),
    async close() {
      try {
        await bus.close();
      } finally {
        metrics.detach();
      }
    },
  };
}
