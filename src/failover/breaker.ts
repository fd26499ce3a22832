/**
 * One opossum circuit breaker per target. The breaker wraps a generic
 * operation, so puts and probes share one health record. Throttling and
 * validation errors do not count against a target: throttling is not an
 * outage, and a bad record is bad everywhere.
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
   * Consecutive failures that open the breaker whatever the percentage says
   * (default 3). A busy window full of earlier successes would otherwise keep
   * a dead target "closed" for seconds, and every batch would wait on it.
   */
  consecutiveFailures?: number;
}

/** A target guarded by a breaker. */
export interface GuardedTarget {
  readonly target: Target;
  readonly tier: TierName;
  /** Run `op` through the breaker; rejects with a TransientError at once when open. */
  fire<T>(op: () => Promise<T>): Promise<T>;
  readonly state: 'closed' | 'open' | 'halfOpen';
  shutdown(): void;
}

type Op = () => Promise<unknown>;

/** Wrap `target` in a breaker that reports its state changes as bus events and probes when half-open. */
export function guardTarget(target: Target, tier: TierName, options: BreakerOptions, events: BusEvents, logger: Logger): GuardedTarget {
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
  const consecutiveLimit = options.consecutiveFailures ?? 3;
  let consecutive = 0;
  breaker.on('open', () => {
    consecutive = 0;
    logger.warn({ target: target.id, tier }, 'Breaker opened; writes for this target go to the next tier.');
    events.emit('breaker.open', { target: target.id, tier });
  });
  breaker.on('halfOpen', () => {
    events.emit('breaker.halfOpen', { target: target.id, tier });
    breaker.fire(() => target.probe(probeAbort.signal)).catch((error: unknown) => {
      logger.info({ target: target.id, err: error }, 'Half-open probe failed; the breaker stays open.');
    });
  });
  breaker.on('close', () => {
    consecutive = 0;
    logger.info({ target: target.id, tier }, 'Breaker closed; the target takes writes again.');
    events.emit('breaker.close', { target: target.id, tier });
  });
  return {
    target,
    tier,
    async fire<T>(op: () => Promise<T>): Promise<T> {
      try {
        const result = (await breaker.fire(op)) as T;
        consecutive = 0;
        return result;
      } catch (error) {
        if ((error as { code?: string }).code === 'EOPENBREAKER') {
          throw new TransientError(`${target.id} breaker is open; skipping it until a probe succeeds`, { target: target.id, cause: error });
        }
        if (!hasCode(error, ThrottledError.code) && !isValidationError(error) && ++consecutive >= consecutiveLimit && breaker.closed) {
          breaker.open();
        }
        throw error;
      }
    },
    get state() {
      return breaker.opened ? 'open' : breaker.halfOpen ? 'halfOpen' : 'closed';
    },
    shutdown() {
      probeAbort.abort();
      breaker.shutdown();
    },
  };
}

