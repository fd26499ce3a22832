/**
 * What the drill watches while a scenario runs: breaker states and spool depth sampled a few times a second,
 * every drain batch, and the moments worth a line on the timeline. Times are epoch milliseconds.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { Bus } from '../bus/bus.js';
import type { TierName } from '../events/bus-events.js';

/** A breaker's state as the bus reports it. */
export type BreakerState = 'closed' | 'open' | 'halfOpen';

/** One sample of the bus. */
export interface Sample {
  at: number;
  /** Worst state per tier (open over halfOpen over closed). */
  breakers: Partial<Record<TierName, BreakerState>>;
  /** Records held in the spool. */
  spooled: number;
}

/** One finished reconciler run (`at` is when it ended). */
export interface DrainPoint {
  at: number;
  written: number;
  skippedDuplicates: number;
  coalesced: number;
  durationMs: number;
}

/** A moment worth a line on the timeline. */
export interface TimelineEvent {
  at: number;
  what: string;
}

/** Everything observed while a scenario ran; producers in child processes feed the same shape. */
export class Observations {
  readonly samples: Sample[] = [];
  readonly drains: DrainPoint[] = [];
  readonly events: TimelineEvent[] = [];

  mark(what: string, at = Date.now()): void {
    this.events.push({ at, what });
  }
}

const RANK: Record<BreakerState, number> = { closed: 0, halfOpen: 1, open: 2 };

/** Reduces `bus.stats()` to a {@link Sample}. */
export async function sampleBus(bus: Bus): Promise<Sample> {
  const stats = await bus.stats();
  const breakers: Partial<Record<TierName, BreakerState>> = {};
  for (const b of stats.breakers) {
    const tier = b.tier as TierName;
    const current = breakers[tier];
    if (current === undefined || RANK[b.state] > RANK[current]) breakers[tier] = b.state;
  }
  return { at: Date.now(), breakers, spooled: stats.spool.records };
}

/** Where {@link watchBus} reports. */
export interface BusWatcher {
  sample(s: Sample): void;
  drain(d: DrainPoint): void;
  /** A window of a reconciler run was written (runs report `drain` only when they end). */
  progress?(): void;
  mark(what: string): void;
}

/**
 * Reports drains and breaker changes of `bus` through `sink`; returns a function that stops sampling.
 * A breaker that re-opens after a failed half-open probe is not reported again.
 */
export function watchBus(bus: Bus, sink: BusWatcher): () => void {
  bus.events.on('reconciler.done', (d) => {
    if (d.written + d.skippedDuplicates + d.coalesced > 0) sink.drain({ at: Date.now(), written: d.written, skippedDuplicates: d.skippedDuplicates, coalesced: d.coalesced, durationMs: d.durationMs });
  });
  bus.events.on('reconciler.progress', () => sink.progress?.());
  const open = new Set<string>();
  bus.events.on('breaker.open', (e) => {
    if (!open.has(e.target)) sink.mark(`breaker open: ${e.tier} ${e.target}`);
    open.add(e.target);
  });
  bus.events.on('breaker.close', (e) => {
    open.delete(e.target);
    sink.mark(`breaker closed: ${e.tier} ${e.target}`);
  });
  let stopped = false;
  const loop = async (): Promise<void> => {
    while (!stopped) {
      sink.sample(await sampleBus(bus).catch(() => ({ at: Date.now(), breakers: {}, spooled: 0 })));
      await sleep(250);
    }
  };
  const running = loop();
  return () => {
    stopped = true;
    void running;
  };
}

/**
 * Waits until the primary breaker is closed, the spool is empty and a reconciler run that started after the
 * last records landed wrote nothing (a run joined mid-way may have read its sources too early).
 * An aborted `signal` stops the wait.
 */
export async function awaitDrained(bus: Bus, timeoutMs: number, signal?: AbortSignal): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    signal?.throwIfAborted();
    const stats = await bus.stats();
    if (stats.breakers.find((b) => b.tier === 'primary')?.state === 'closed') {
      await bus.reconcile();
      const summary = await bus.reconcile();
      const after = await bus.stats();
      if (!summary.error && summary.unavailable.length === 0 && after.spool.records === 0 && summary.written === 0) return;
    } else {
      await sleep(100);
    }
  }
  throw new Error(`the reconciler did not finish draining within ${timeoutMs} ms`);
}
