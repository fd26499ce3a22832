/**
 * Turns the bus's events into a few log lines a person can read during an
 * outage: one line when writes start failing over, a summary at most once
 * per `intervalMs` while they still do (records per fallback target since the
 * last summary), one line when the failover ends, one when the spool is
 * engaged or released, and one per drain that moved records. Per-batch detail
 * is the router's, at debug.
 *
 * A failover episode lasts while any breaker is open, or while records keep
 * going to fallback targets; it ends when the last breaker closes, or after an
 * interval in which nothing failed over with every breaker closed.
 */
import type { Logger } from 'pino';
import type { BusEventMap, BusEvents, ReconcileSummary } from '../events/bus-events.js';
import { FallbackTally, total } from './fallback-tally.js';

/** Options for {@link attachFailoverLog}. */
export interface FailoverLogOptions {
  /** Least time between two summaries, in ms (default 60000). */
  intervalMs?: number;
  /** Milliseconds clock (default `Date.now`). */
  now?: () => number;
  /** Spool depth, to say when the spool is released (the bus's `stats`; optional). */
  spoolRecords?: () => Promise<number>;
}

/** A running summariser. */
export interface FailoverLog {
  /** Unsubscribe and stop the timer. */
  detach(): void;
}

/** Subscribe a summariser to `events`; it logs through a child of `logger`. */
export function attachFailoverLog(events: BusEvents, logger: Logger, options: FailoverLogOptions = {}): FailoverLog {
  return new FailoverLogSummary(events, logger.child({ component: 'failover-summary' }), options);
}

/** See the module comment; one per bus. */
class FailoverLogSummary implements FailoverLog {
  readonly #events: BusEvents;
  readonly #log: Logger;
  readonly #intervalMs: number;
  readonly #now: () => number;
  readonly #spoolRecords: (() => Promise<number>) | undefined;
  readonly #tally: FallbackTally;
  readonly #episodeTally: FallbackTally;
  readonly #open = new Set<string>();
  readonly #handlers: Array<[keyof BusEventMap, (payload: never) => void]>;
  #episode: { startedAt: number; timer: NodeJS.Timeout } | undefined;
  #spoolEngaged = false;

  constructor(events: BusEvents, log: Logger, options: FailoverLogOptions) {
    this.#events = events;
    this.#log = log;
    this.#intervalMs = options.intervalMs ?? 60_000;
    this.#now = options.now ?? Date.now;
    this.#spoolRecords = options.spoolRecords;
    this.#tally = new FallbackTally(events);
    this.#episodeTally = new FallbackTally(events);
    this.#handlers = [
      ['breaker.open', ({ target }: BusEventMap['breaker.open']) => this.#breakerOpened(target)],
      ['breaker.close', ({ target }: BusEventMap['breaker.close']) => this.#breakerClosed(target)],
      ['bus.failover', ({ from, to, reason }: BusEventMap['bus.failover']) => this.#begin(`records are going from ${from} to ${to}`, { from, to, reason })],
      ['spool.append', ({ target, records }: BusEventMap['spool.append']) => this.#spooled(target, records)],
      ['reconciler.start', ({ sources }: BusEventMap['reconciler.start']) => this.#log[this.#spoolEngaged || this.#episode ? 'info' : 'debug']({ sources }, 'Drain started.')],
      ['reconciler.done', (summary: ReconcileSummary) => void this.#drained(summary)],
    ];
    for (const [name, handler] of this.#handlers) events.on(name, handler as (p: unknown) => void);
  }

  detach(): void {
    for (const [name, handler] of this.#handlers) this.#events.off(name, handler as (p: unknown) => void);
    this.#tally.detach();
    this.#episodeTally.detach();
    if (this.#episode) clearInterval(this.#episode.timer);
    this.#episode = undefined;
  }

  #breakerOpened(target: string): void {
    this.#open.add(target);
    this.#begin(`the breaker of ${target} opened`, { target });
  }

  #breakerClosed(target: string): void {
    this.#open.delete(target);
    if (this.#open.size === 0) this.#end();
  }

  #begin(cause: string, fields: Record<string, unknown>): void {
    if (this.#episode) return;
    const timer = setInterval(() => this.#tick(), this.#intervalMs);
    timer.unref?.();
    this.#episode = { startedAt: this.#now(), timer };
    this.#log.warn(fields, `Failover started: ${cause}; a summary follows at most every ${Math.round(this.#intervalMs / 1000)} s while it lasts.`);
  }

  #tick(): void {
    const counts = this.#tally.take();
    if (total(counts) === 0 && this.#open.size === 0) return this.#end();
    const sinceStartMs = this.#now() - (this.#episode?.startedAt ?? this.#now());
    const fields = { records: total(counts), byTarget: counts, openBreakers: [...this.#open], sinceStartMs };
    this.#log.warn(fields, `Still failed over: ${describe(counts)} in the last ${Math.round(this.#intervalMs / 1000)} s.`);
  }

  #end(): void {
    if (!this.#episode) return;
    clearInterval(this.#episode.timer);
    this.#tally.take();
    const counts = this.#episodeTally.take();
    this.#log.warn({ durationMs: this.#now() - this.#episode.startedAt, records: total(counts), byTarget: counts }, `Failover ended: ${describe(counts)}.`);
    this.#episode = undefined;
  }

  #spooled(target: string, records: number): void {
    if (this.#spoolEngaged) return;
    this.#spoolEngaged = true;
    this.#log.warn({ target, records }, 'Spool engaged: no remote tier took these records, so they are held on local disk until a drain.');
  }

  async #drained(summary: ReconcileSummary): Promise<void> {
    const moved = summary.written + summary.skippedDuplicates + summary.coalesced + summary.rejected + summary.settled;
    this.#log[moved > 0 || summary.error ? 'info' : 'debug']({ ...summary }, summary.error ? 'Drain stopped early.' : 'Drain completed.');
    if (!this.#spoolEngaged || !this.#spoolRecords) return;
    if ((await this.#spoolRecords().catch(() => -1)) !== 0) return;
    this.#spoolEngaged = false;
    this.#log.info({}, 'Spool released: every spooled record was drained.');
  }
}

/** "120 records went to kinesis:us-west-2:orders, 3 to disk:/var/spool" */
function describe(counts: Record<string, number>): string {
  const parts = Object.entries(counts).map(([target, n], i) => (i === 0 ? `${n} records went to ${target}` : `${n} to ${target}`));
  return parts.length > 0 ? parts.join(', ') : 'no records went to a fallback target';
}
