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
import type { BusEvents, BusEventMap, ReconcileSummary } from '../events/bus-events.js';
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
  const log = logger.child({ component: 'failover-summary' });
  const intervalMs = options.intervalMs ?? 60_000;
  const now = options.now ?? Date.now;
  const tally = new FallbackTally(events);
  const episodeTally = new FallbackTally(events);
  const open = new Set<string>();
  let episode: { startedAt: number } | undefined;
  let timer: NodeJS.Timeout | undefined;
  let spoolEngaged = false;

  const end = (): void => {
    if (!episode) return;
    tally.take();
    const counts = episodeTally.take();
    log.warn({ durationMs: now() - episode.startedAt, records: total(counts), byTarget: counts }, `Failover ended: ${describe(counts)}.`);
    episode = undefined;
    if (timer) clearInterval(timer);
    timer = undefined;
  };
  const tick = (): void => {
    const counts = tally.take();
    if (total(counts) === 0 && open.size === 0) return end();
    const fields = { records: total(counts), byTarget: counts, openBreakers: [...open], sinceStartMs: now() - (episode?.startedAt ?? now()) };
    log.warn(fields, `Still failed over: ${describe(counts)} in the last ${Math.round(intervalMs / 1000)} s.`);
  };
  const begin = (cause: string, fields: Record<string, unknown>): void => {
    if (episode) return;
    episode = { startedAt: now() };
    log.warn(fields, `Failover started: ${cause}; a summary follows at most every ${Math.round(intervalMs / 1000)} s while it lasts.`);
    timer = setInterval(tick, intervalMs);
    timer.unref?.();
  };

  const handlers = {
    'breaker.open': ({ target }: BusEventMap['breaker.open']) => {
      open.add(target);
      begin(`the breaker of ${target} opened`, { target });
    },
    'breaker.close': ({ target }: BusEventMap['breaker.close']) => {
      open.delete(target);
      if (open.size === 0) end();
    },
    'bus.failover': ({ from, to, reason }: BusEventMap['bus.failover']) => begin(`records are going from ${from} to ${to}`, { from, to, reason }),
    'spool.append': ({ target, records }: BusEventMap['spool.append']) => {
      if (spoolEngaged) return;
      spoolEngaged = true;
      log.warn({ target, records }, 'Spool engaged: no remote tier took these records, so they are held on local disk until a drain.');
    },
    'reconciler.start': ({ sources }: BusEventMap['reconciler.start']) => {
      const level = spoolEngaged || episode ? 'info' : 'debug';
      log[level]({ sources }, 'Drain started.');
    },
    'reconciler.done': (summary: BusEventMap['reconciler.done']) => void drained(summary),
  };
  const drained = async (summary: ReconcileSummary): Promise<void> => {
    const moved = summary.written + summary.skippedDuplicates + summary.coalesced + summary.rejected + summary.settled;
    const level = moved > 0 || summary.error ? 'info' : 'debug';
    log[level]({ ...summary }, summary.error ? 'Drain stopped early.' : 'Drain completed.');
    if (!spoolEngaged || !options.spoolRecords) return;
    const left = await options.spoolRecords().catch(() => -1);
    if (left !== 0) return;
    spoolEngaged = false;
    log.info({}, 'Spool released: every spooled record was drained.');
  };
  for (const [name, handler] of Object.entries(handlers)) events.on(name as keyof BusEventMap, handler as (p: unknown) => void);

  return {
    detach() {
      for (const [name, handler] of Object.entries(handlers)) events.off(name as keyof BusEventMap, handler as (p: unknown) => void);
      tally.detach();
      episodeTally.detach();
      if (timer) clearInterval(timer);
    },
  };
}

/** "120 records went to kinesis:us-west-2:orders, 3 to disk:/var/spool" */
function describe(counts: Record<string, number>): string {
  const parts = Object.entries(counts).map(([target, n], i) => (i === 0 ? `${n} records went to ${target}` : `${n} to ${target}`));
  return parts.length > 0 ? parts.join(', ') : 'no records went to a fallback target';
}
