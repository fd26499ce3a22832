/**
 * One opossum circuit breaker per target. The breaker wraps a generic
 * operation, so puts and probes share one health record. Throttling and
 * validation errors do not count against a target: throttling is not an
 * outage, and a bad record is bad everywhere.
 *
 * Invariants
 * - Half-open lets exactly one call through, and that call is the target's
 *   own `probe`, never a live batch: while a breaker is open or half-open,
 *   every live `fire` fails fast with a TransientError, so live traffic goes
 *   to the next tier and never waits on a target that may still hang.
 * - Failures are judged by when their calls started, not by when they ended:
 *   a failure counts unless a call that started later succeeded. Calls that
 *   were in flight together (several lanes, one hanging target) therefore
 *   count together when they time out at nearly the same moment, and an old
 *   call that happens to succeed late does not wipe out newer failures.
 * - The breaker opens when `consecutiveFailures` counted failures fall within
 *   `rollingWindowMs`, or at once when one counted failure took at least
 *   `slowFailureMs` (a timeout: every caller behind it paid that wait, so the
 *   next batch must not pay it again). Opossum's own percentage rule still
 *   applies on top.
 */
import CircuitBreaker from 'opossum';
import type { Logger } from 'pino';
import type { Target } from '../contracts/index.js';
import { hasCode, isValidationError, ThrottledError, TransientError } from '../errors/index.js';
import type { BusEvents, TierName } from '../events/bus-events.js';

/** Breaker tuning; every field has a default. */
export interface BreakerOptions {
  /** Failure percentage in the rolling window that opens the breaker (default 50). */
  errorThresholdPercentage?: number;
  /** Calls in the window before the percentage is judged (default 3). */
  volumeThreshold?: number;
  /** Time an open breaker waits before a half-open probe, in ms (default 5000). */
  resetTimeoutMs?: number;
  /** Length of the rolling statistics window, in ms (default 10000). */
  rollingWindowMs?: number;
  /**
   * Counted failures within `rollingWindowMs` that open the breaker whatever
   * the percentage says (default 3). See the module's invariants for which
   * failures count.
   */
  consecutiveFailures?: number;
  /**
   * A counted failure that took at least this long opens the breaker by
   * itself, in ms (default 1000; 0 turns the rule off). Set it below the
   * targets' request timeout so a hanging target opens after one timeout.
   */
  slowFailureMs?: number;
  /** Milliseconds clock (default `Date.now`); tests inject one. */
  now?: () => number;
}

/** A breaker's state, as reported by `GuardedTarget.state`. */
export type BreakerState = 'closed' | 'open' | 'halfOpen';

/** A target guarded by a breaker. */
export interface GuardedTarget {
  readonly target: Target;
  readonly tier: TierName;
  /** Run `op` through the breaker; rejects with a TransientError at once when open or half-open. */
  fire<T>(op: () => Promise<T>): Promise<T>;
  readonly state: BreakerState;
  shutdown(): void;
}

type Op = () => Promise<unknown>;

/**
 * Failures counted by the start time of their calls (see the invariants).
 * Exported for its unit tests.
 */
export class FailureEvidence {
  /** Start time of the newest call that succeeded. */
  #healthyFrom = Number.NEGATIVE_INFINITY;
  /** Start times of the failures that count. */
  #failures: number[] = [];

  /** A call that started at `startedAt` succeeded: failures of calls started before it stop counting. */
  success(startedAt: number): void {
    if (startedAt < this.#healthyFrom) return;
    this.#healthyFrom = startedAt;
    this.#failures = this.#failures.filter((s) => s > startedAt);
  }

  /**
   * A call that started at `startedAt` failed at `now`. Returns whether it
   * counts, and how many counted failures started within `windowMs` of now.
   */
  failure(startedAt: number, now: number, windowMs: number): { counts: boolean; recent: number } {
    const counts = startedAt >= this.#healthyFrom;
    if (counts) this.#failures.push(startedAt);
    this.#failures = this.#failures.filter((s) => s >= now - windowMs);
    return { counts, recent: this.#failures.length };
  }

  /** Forget every failure (the breaker opened or closed). */
  reset(): void {
    this.#failures = [];
  }
}

/** Wrap `target` in a breaker that reports its state changes as bus events and probes when half-open. */
export function guardTarget(target: Target, tier: TierName, options: BreakerOptions, events: BusEvents, logger: Logger): GuardedTarget {
  return new BreakerGuard(target, tier, options, events, logger);
}

/** See the module's invariants. */
class BreakerGuard implements GuardedTarget {
  readonly target: Target;
  readonly tier: TierName;
  readonly #breaker: CircuitBreaker<[Op], unknown>;
  readonly #events: BusEvents;
  readonly #logger: Logger;
  readonly #now: () => number;
  readonly #limit: number;
  readonly #slowMs: number;
  readonly #windowMs: number;
  readonly #evidence = new FailureEvidence();
  readonly #probeAbort = new AbortController();
  /** The current outage: why it opened, since when, probes so far (openedAt 0: none). */
  readonly #outage = { cause: '', openedAt: 0, probes: 0 };
  #probing = false;

  constructor(target: Target, tier: TierName, options: BreakerOptions, events: BusEvents, logger: Logger) {
    this.target = target;
    this.tier = tier;
    this.#events = events;
    this.#logger = logger;
    this.#now = options.now ?? Date.now;
    this.#limit = options.consecutiveFailures ?? 3;
    this.#slowMs = options.slowFailureMs ?? 1_000;
    this.#windowMs = options.rollingWindowMs ?? 10_000;
    this.#breaker = new CircuitBreaker<[Op], unknown>((op: Op) => op(), {
      name: target.id,
      timeout: false, // each target enforces its own request timeout and aborts the call
      errorThresholdPercentage: options.errorThresholdPercentage ?? 50,
      volumeThreshold: options.volumeThreshold ?? 3,
      resetTimeout: options.resetTimeoutMs ?? 5_000,
      rollingCountTimeout: this.#windowMs,
      errorFilter: (error: unknown) => hasCode(error, ThrottledError.code) || isValidationError(error),
    });
    this.#breaker.on('open', () => this.#opened());
    this.#breaker.on('halfOpen', () => this.#probe());
    this.#breaker.on('close', () => this.#closed());
  }

  get state(): BreakerState {
    return this.#breaker.opened ? 'open' : this.#breaker.halfOpen ? 'halfOpen' : 'closed';
  }

  async fire<T>(op: () => Promise<T>): Promise<T> {
    if (!this.#breaker.closed) {
      const why = this.#breaker.halfOpen || this.#probing ? 'a probe is in flight' : 'it is open';
      throw new TransientError(`${this.target.id} breaker: ${why}; skipping it until a probe succeeds`, { target: this.target.id });
    }
    const startedAt = this.#now();
    try {
      const result = (await this.#breaker.fire(op)) as T;
      this.#evidence.success(startedAt);
      return result;
    } catch (error) {
      if ((error as { code?: string }).code === 'EOPENBREAKER') {
        throw new TransientError(`${this.target.id} breaker is open; skipping it until a probe succeeds`, { target: this.target.id, cause: error });
      }
      this.#judge(error, startedAt);
      throw error;
    }
  }

  shutdown(): void {
    this.#probeAbort.abort();
    this.#breaker.shutdown();
  }

  /** Count a failed call; open the breaker when the evidence says so. */
  #judge(error: unknown, startedAt: number): void {
    if (hasCode(error, ThrottledError.code) || isValidationError(error) || !this.#breaker.closed) return;
    const ended = this.#now();
    const { counts, recent } = this.#evidence.failure(startedAt, ended, this.#windowMs);
    if (!counts) return;
    const tookMs = ended - startedAt;
    if (this.#slowMs > 0 && tookMs >= this.#slowMs) this.#outage.cause = `a request failed after ${tookMs} ms (slowFailureMs ${this.#slowMs})`;
    else if (recent >= this.#limit) this.#outage.cause = `${recent} failures within ${this.#windowMs} ms (consecutiveFailures ${this.#limit})`;
    else return;
    this.#breaker.open();
  }

  get #fields(): { target: string; tier: TierName } {
    return { target: this.target.id, tier: this.tier };
  }

  #opened(): void {
    this.#evidence.reset();
    if (this.#outage.openedAt === 0) {
      this.#outage.openedAt = this.#now();
      this.#outage.probes = 0;
      const cause = this.#outage.cause || 'failure rate over threshold';
      this.#logger.warn({ ...this.#fields, cause }, 'Breaker opened; writes for this target go to the next tier until a probe succeeds.');
    }
    this.#events.emit('breaker.open', this.#fields);
  }

  /** Half-open: the probe is the one call let through; live calls keep failing fast until it answers. */
  #probe(): void {
    const probe = ++this.#outage.probes;
    this.#logger[probe === 1 ? 'info' : 'debug']({ ...this.#fields, probe }, 'Breaker half-open; probing the target with one request while writes keep going to the next tier.');
    this.#events.emit('breaker.halfOpen', this.#fields);
    this.#probing = true;
    this.#breaker
      .fire(() => this.target.probe(this.#probeAbort.signal))
      .catch((error: unknown) => this.#logger.debug({ ...this.#fields, err: error, probe }, 'Half-open probe failed; the breaker is open again.'))
      .finally(() => {
        this.#probing = false;
      });
  }

  #closed(): void {
    this.#evidence.reset();
    const openMs = this.#outage.openedAt === 0 ? 0 : this.#now() - this.#outage.openedAt;
    this.#logger.info({ ...this.#fields, openMs, probes: this.#outage.probes }, 'Breaker closed; the target takes writes again.');
    this.#outage.openedAt = 0;
    this.#outage.cause = '';
    this.#events.emit('breaker.close', this.#fields);
  }
}
