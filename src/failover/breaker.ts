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
  const now = options.now ?? Date.now;
  const breaker = new CircuitBreaker<[Op], unknown>((op: Op) => op(), {
    name: target.id,
    timeout: false, // each target enforces its own request timeout and aborts the call
    errorThresholdPercentage: options.errorThresholdPercentage ?? 50,
    volumeThreshold: options.volumeThreshold ?? 3,
    resetTimeout: options.resetTimeoutMs ?? 5_000,
    rollingCountTimeout: options.rollingWindowMs ?? 10_000,
    errorFilter: (error: unknown) => hasCode(error, ThrottledError.code) || isValidationError(error),
  });
  const probeAbort = new AbortController();
  const limit = options.consecutiveFailures ?? 3;
  const slowMs = options.slowFailureMs ?? 1_000;
  const windowMs = options.rollingWindowMs ?? 10_000;
  const evidence = new FailureEvidence();
  const fields = { target: target.id, tier };
  const outage = { cause: '', openedAt: 0, probes: 0 };
  let probing = false;

  breaker.on('open', () => {
    evidence.reset();
    if (outage.openedAt === 0) {
      outage.openedAt = now();
      outage.probes = 0;
      logger.warn({ ...fields, cause: outage.cause || 'failure rate over threshold' }, 'Breaker opened; writes for this target go to the next tier until a probe succeeds.');
    }
    events.emit('breaker.open', { target: target.id, tier });
  });
  breaker.on('halfOpen', () => {
    outage.probes++;
    const level = outage.probes === 1 ? 'info' : 'debug';
    logger[level]({ ...fields, probe: outage.probes }, 'Breaker half-open; probing the target with one request while writes keep going to the next tier.');
    events.emit('breaker.halfOpen', { target: target.id, tier });
    probing = true;
    breaker
      .fire(() => target.probe(probeAbort.signal))
      .catch((error: unknown) => {
        logger.debug({ ...fields, err: error, probe: outage.probes }, 'Half-open probe failed; the breaker is open again.');
      })
      .finally(() => {
        probing = false;
      });
  });
  breaker.on('close', () => {
    evidence.reset();
    const openMs = outage.openedAt === 0 ? 0 : now() - outage.openedAt;
    logger.info({ ...fields, openMs, probes: outage.probes }, 'Breaker closed; the target takes writes again.');
    outage.openedAt = 0;
    outage.cause = '';
    events.emit('breaker.close', { target: target.id, tier });
  });

  const judge = (error: unknown, startedAt: number): void => {
    if (hasCode(error, ThrottledError.code) || isValidationError(error) || !breaker.closed) return;
    const ended = now();
    const { counts, recent } = evidence.failure(startedAt, ended, windowMs);
    if (!counts) return;
    const tookMs = ended - startedAt;
    if (slowMs > 0 && tookMs >= slowMs) outage.cause = `a request failed after ${tookMs} ms (slowFailureMs ${slowMs})`;
    else if (recent >= limit) outage.cause = `${recent} failures within ${windowMs} ms (consecutiveFailures ${limit})`;
    else return;
    breaker.open();
  };

  return {
    target,
    tier,
    async fire<T>(op: () => Promise<T>): Promise<T> {
      if (!breaker.closed) {
        const why = breaker.halfOpen || probing ? 'a probe is in flight' : 'it is open';
        throw new TransientError(`${target.id} breaker: ${why}; skipping it until a probe succeeds`, { target: target.id });
      }
      const startedAt = now();
      try {
        const result = (await breaker.fire(op)) as T;
        evidence.success(startedAt);
        return result;
      } catch (error) {
        if ((error as { code?: string }).code === 'EOPENBREAKER') {
          throw new TransientError(`${target.id} breaker is open; skipping it until a probe succeeds`, { target: target.id, cause: error });
        }
        judge(error, startedAt);
        throw error;
      }
    },
    get state(): BreakerState {
      return breaker.opened ? 'open' : breaker.halfOpen ? 'halfOpen' : 'closed';
    },
    shutdown() {
      probeAbort.abort();
      breaker.shutdown();
    },
  };
}
