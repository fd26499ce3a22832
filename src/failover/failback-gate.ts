/**
 * When writes go back to the primary after a failover.
 *
 * `after-drain` (the default): once any record has left the primary, later
 * writes go behind it (to the next tier that takes them) until the
 * reconciler has drained every fallback. The switch back happens with new
 * dispatches held, after a last drain of whatever arrived meanwhile, so a
 * consumer of the primary never sees a newer record of a key before an older
 * one. `immediate`: writes go to the primary as soon as it answers, and
 * records still in the backlog arrive after newer ones.
 *
 * Invariants
 * - While `behind`, no dispatch offers records to the primary.
 * - The switch to `direct` happens only after a drain that started once every
 *   dispatch in flight had finished, while new dispatches were held, and that
 *   drained every source (no error, no unavailable source).
 * - Held dispatches wait at most for that last drain; the gate is never held
 *   while a drain of a large backlog runs.
 * - Past `maxBehindMs` the gate switches back anyway (`bus.failback` with
 *   `forced: true`, logged at warn): the primary takes writes again, and keys
 *   with records still in the backlog may be seen out of order.
 */
import type { Logger } from 'pino';
import type { Clock } from '../envelope/index.js';
import type { Envelope } from '../envelope/index.js';
import type { BusEvents, ReconcileSummary } from '../events/bus-events.js';
import type { DispatchOutcome } from './router.js';

/** How writes return to the primary; see the module comment. */
export type FailbackMode = 'after-drain' | 'immediate';

/** Options for {@link FailbackGate}. */
export interface FailbackOptions {
  mode?: FailbackMode;
  /** Longest time writes stay behind the backlog before switching back anyway (default 15 minutes). */
  maxBehindMs?: number;
}

/** What the gate needs from the bus. */
export interface FailbackDeps {
  /** Offer a batch down the chain, skipping the primary when asked. */
  dispatch(batch: readonly Envelope[], skipPrimary: boolean): Promise<DispatchOutcome[]>;
  /** A drain that starts after this call: joins none that began earlier. */
  reconcile(): Promise<ReconcileSummary>;
  /** Start a drain soon if the bus drains by itself and the primary is healthy. */
  kick(): void;
  /** Whether the primary may be drained into now (its breaker is closed). */
  primaryHealthy(): boolean;
  events: BusEvents;
  logger: Logger;
  clock?: Clock;
}

/** First and longest pause before retrying a drain that failed while writes are behind. */
const RETRY_BASE_MS = 250;
const RETRY_CAP_MS = 30_000;

/** A drain that wrote at most this many records is short enough to repeat with dispatches held. */
const SHORT_DRAIN_RECORDS = 1_000;

/** See the module comment. */
export class FailbackGate {
  readonly #deps: FailbackDeps;
  readonly #mode: FailbackMode;
  readonly #maxBehindMs: number;
  readonly #clock: Clock;
  #behindSince: number | undefined;
  #inFlight = 0;
  #idle: Array<() => void> = [];
  #held: Promise<void> | undefined;
  #switching = false;
  #closed = false;
  #retries = 0;
  #retryTimer: NodeJS.Timeout | undefined;

  constructor(deps: FailbackDeps, options: FailbackOptions = {}) {
    this.#deps = deps;
    this.#mode = options.mode ?? 'after-drain';
    this.#maxBehindMs = options.maxBehindMs ?? 15 * 60_000;
    this.#clock = deps.clock ?? Date.now;
    deps.events.on('reconciler.done', (summary) => this.#afterDrain(summary));
  }

  /** True while writes go behind a backlog. */
  get behind(): boolean {
    return this.#behindSince !== undefined;
  }

  /** Dispatch a batch: behind the backlog while there is one, else to the primary first. */
  async dispatch(batch: readonly Envelope[]): Promise<DispatchOutcome[]> {
    while (this.#held) await this.#held;
    this.#forceIfOverdue();
    const skipPrimary = this.behind;
    this.#inFlight++;
    try {
      const outcomes = await this.#deps.dispatch(batch, skipPrimary);
      if (this.#mode === 'after-drain' && !skipPrimary && outcomes.some((o) => o.ok && o.landedOn.tier !== 'primary')) this.#goBehind();
      return outcomes;
    } finally {
      if (--this.#inFlight === 0) for (const wake of this.#idle.splice(0)) wake();
    }
  }

  /** Stop switching (the bus is closing); held dispatches go on. */
  close(): void {
    this.#closed = true;
    if (this.#retryTimer) clearTimeout(this.#retryTimer);
  }

  #goBehind(): void {
    if (this.behind) return;
    this.#behindSince = this.#clock();
    // A failover that did not open the breaker gets no breaker.close to start the drain: start it now.
    setImmediate(() => this.#deps.kick());
    this.#deps.logger.info({ mode: this.#mode }, 'Writes go behind the backlog until the reconciler has drained it, so each key keeps its order.');
  }

  #forceIfOverdue(): void {
    if (this.#behindSince === undefined || this.#clock() - this.#behindSince < this.#maxBehindMs) return;
    const behindMs = this.#clock() - this.#behindSince;
    this.#behindSince = undefined;
    this.#deps.logger.warn(
      { behindMs, maxBehindMs: this.#maxBehindMs },
      'The backlog did not drain within failback.maxBehindMs; writes go to the primary again, and keys with records still in the backlog may be seen out of order. Raise reconciler.maxRecordsPerSecond or failback.maxBehindMs.',
    );
    this.#deps.events.emit('bus.failback', { behindMs, forced: true });
  }

  #afterDrain(summary: ReconcileSummary): void {
    if (!this.behind || this.#switching || this.#closed) return;
    if (summary.error || summary.unavailable.length > 0) {
      this.#retryLater();
      return;
    }
    this.#retries = 0;
    if (!this.#deps.primaryHealthy()) return;
    if (summary.written > SHORT_DRAIN_RECORDS) {
      // Still catching up: drain again at once rather than wait for the timer.
      setImmediate(() => this.#deps.kick());
      return;
    }
    void this.#switchBack();
  }

  /**
   * Live writes no longer touch the primary while behind, so nothing else
   * would start the next drain while its breaker stays closed: try again
   * after a growing pause (an open breaker starts one when it closes).
   */
  #retryLater(): void {
    if (this.#retryTimer || !this.#deps.primaryHealthy()) return;
    const delay = Math.min(RETRY_BASE_MS * 2 ** this.#retries++, RETRY_CAP_MS);
    this.#retryTimer = setTimeout(() => {
      this.#retryTimer = undefined;
      if (this.behind && !this.#closed) this.#deps.kick();
    }, delay);
    this.#retryTimer.unref();
  }

  /** Hold new dispatches, let those in flight finish, drain what they wrote, and switch if nothing is left. */
  async #switchBack(): Promise<void> {
    this.#switching = true;
    let release!: () => void;
    this.#held = new Promise<void>((resolve) => (release = resolve));
    try {
      while (this.#inFlight > 0) await new Promise<void>((resolve) => this.#idle.push(resolve));
      const summary = await this.#deps.reconcile();
      if (!summary.error && summary.unavailable.length === 0 && this.behind && !this.#closed) {
        const behindMs = this.#clock() - (this.#behindSince as number);
        this.#behindSince = undefined;
        this.#deps.logger.info({ behindMs }, 'Backlog drained; writes go to the primary again.');
        this.#deps.events.emit('bus.failback', { behindMs, forced: false });
      }
    } catch (error) {
      this.#deps.logger.info({ err: error }, 'The last drain before failback did not finish; writes stay behind the backlog.');
    } finally {
      this.#held = undefined;
      this.#switching = false;
      release();
    }
  }
}
