/**
 * The failover router: an ordered chain of tiers, primary → secondaries →
 * spools, each target but the last spool behind its own circuit breaker.
 *
 * Invariants
 * - A record's outcome is `ok` only once some tier durably accepted it: the
 *   remote target acknowledged it, or the spool fsync'd it.
 * - A record is offered to tier n+1 only after tier n failed it. A primary
 *   failure that may still have been applied (a timeout after sending) is
 *   recorded through `onUncertain`, and awaited, before the records move on,
 *   so the reconciler can find such copies in the primary and skip them.
 * - A ValidationError is final: the record is bad everywhere and is never
 *   offered to another tier.
 * - A record fails only when every tier, the spool included, failed it; the
 *   error lists each tier's cause.
 * - A record over a tier's per-record limit skips that tier (never
 *   truncated); an authorization failure passes records on at once, never
 *   retried as if transient, and is logged once per target with the fix.
 */
import type { Logger } from 'pino';
import type { Receipt, Target } from '../contracts/index.js';
import type { Envelope } from '../envelope/index.js';
import { AllTiersFailedError, isAmbiguousFailure, isUnauthorizedError, type SpillwayError, type TierFailure } from '../errors/index.js';
import type { BusEvents, TierName } from '../events/bus-events.js';
import { type BreakerOptions, type GuardedTarget, guardTarget } from './breaker.js';
import { type DeliveryOptions, deliverToTier, type TierOutcome } from './deliver.js';

/** Where an accepted record landed. */
export interface LandedOn {
  tier: TierName;
  /** Target id, e.g. `kinesis:us-east-1:orders` or `disk:/var/spool/spillway`. */
  target: string;
  receipt?: Receipt;
}

/** One record's outcome: where it landed (with its id, so it serves as the caller's result as it is), or why it did not. */
export type DispatchOutcome = { ok: true; id: string; landedOn: LandedOn } | { ok: false; error: SpillwayError };

/** Options for {@link FailoverRouter}. */
export interface FailoverRouterOptions {
  primary: Target;
  secondaries?: readonly Target[];
  /**
   * The spools, as targets (see `spoolAsTarget`), in the order they are
   * tried after the remote tiers. Each but the last has a breaker; the last
   * is always tried.
   */
  spools: readonly Target[];
  breaker?: BreakerOptions;
  delivery?: DeliveryOptions;
  /**
   * Called, and awaited, with the ids of primary writes that failed
   * ambiguously (they may be in the primary) before those records are offered
   * to the next tier. The reconciler settles them before replaying.
   */
  onUncertain?: (batch: { at: number; recordedAt: number; ids: string[] }) => Promise<void>;
  events: BusEvents;
  logger: Logger;
}

/** Unguarded passthrough for the spool tier. */
function unguarded(target: Target, tier: TierName): GuardedTarget {
  return { target, tier, fire: (op) => op(), state: 'closed', shutdown() {} };
}

/** Routes batches down the tier chain; see the module's invariants. */
export class FailoverRouter {
  readonly tiers: readonly GuardedTarget[];
  readonly #options: FailoverRouterOptions;
  readonly #abort = new AbortController();
  /** Targets whose authorization failure was already logged. */
  readonly #unauthorizedLogged = new Set<string>();

  constructor(options: FailoverRouterOptions) {
    this.#options = options;
    const { events, logger } = options;
    const guard = (t: Target, tier: TierName) => guardTarget(t, tier, options.breaker ?? {}, events, logger);
    const spools = options.spools.map((t, i) => (i === options.spools.length - 1 ? unguarded(t, 'spool') : guard(t, 'spool')));
    this.tiers = [guard(options.primary, 'primary'), ...(options.secondaries ?? []).map((t) => guard(t, 'secondary')), ...spools];
  }

  /** The primary tier (its breaker state drives the reconciler). */
  get primary(): GuardedTarget {
    return this.tiers[0] as GuardedTarget;
  }

  /**
   * Offer a batch down the chain; one outcome per record, in order. With
   * `skipPrimary` the batch starts at the first secondary (writes behind a
   * backlog, see FailbackGate).
   */
  async dispatch(batch: readonly Envelope[], options: { skipPrimary?: boolean } = {}): Promise<DispatchOutcome[]> {
    const outcomes = new Array<DispatchOutcome>(batch.length);
    // Records are found by identity, and the index is built only once some record is out of place.
    let index: Map<Envelope, number> | undefined;
    const indexOf = (envelope: Envelope): number => {
      if (!index) index = new Map(batch.map((e, i) => [e, i]));
      return index.get(envelope) as number;
    };
    let failures: Map<Envelope, TierFailure[]> | undefined;
    let pending: readonly Envelope[] = batch;
    for (const [n, tier] of this.tiers.entries()) {
      if (pending.length === 0) break;
      if (n === 0 && options.skipPrimary) continue;
      const at = Date.now();
      const result = await deliverToTier(tier, pending, this.#options.delivery ?? {}, this.#abort.signal);
      if (n === 0) await this.#recordUncertain(at, result.passed);
      const { accepted, receipts } = result;
      for (let i = 0; i < accepted.length; i++) {
        const envelope = accepted[i] as Envelope;
        const receipt = receipts[i];
        // The common case: everything accepted by the first tier tried, in order.
        const place = pending === batch && batch[i] === envelope ? i : indexOf(envelope);
        outcomes[place] = { ok: true, id: envelope.id, landedOn: receipt ? { tier: tier.tier, target: tier.target.id, receipt } : { tier: tier.tier, target: tier.target.id } };
      }
      for (const { envelope, error } of result.rejected) outcomes[indexOf(envelope)] = { ok: false, error };
      if (result.passed.length > 0) {
        failures ??= new Map();
        for (const { envelope, error } of result.passed) {
          const list = failures.get(envelope) ?? [];
          list.push({ tier: tier.tier, target: tier.target.id, error });
          failures.set(envelope, list);
        }
      }
      if (result.overflowed > 0) this.#options.events.emit('bus.overflow', { target: tier.target.id, records: result.overflowed });
      if (result.oversized.records > 0) this.#options.events.emit('bus.oversize', { target: tier.target.id, ...result.oversized });
      if (result.passed.length > 0) this.#reportUnauthorized(tier, result.passed);
      if (tier.tier === 'spool' && accepted.length > 0) {
        this.#options.events.emit('spool.append', { target: tier.target.id, records: accepted.length });
      }
      pending = result.passed.length === 0 ? [] : result.passed.map((p) => p.envelope);
      this.#reportFailover(tier, this.tiers[n + 1], result.passed);
    }
    for (const envelope of pending) {
      outcomes[indexOf(envelope)] = { ok: false, error: new AllTiersFailedError(envelope.id, failures?.get(envelope) ?? []) };
    }
    return outcomes;
  }

  async #recordUncertain(at: number, passed: TierOutcome['passed']): Promise<void> {
    const ids = passed.filter((p) => isAmbiguousFailure(p.error)).map((p) => p.envelope.id);
    if (ids.length === 0 || !this.#options.onUncertain) return;
    try {
      await this.#options.onUncertain({ at, recordedAt: Date.now(), ids });
    } catch (error) {
      // Availability first: the records still move on; a copy may end up in the primary twice.
      this.#options.logger.error({ err: error, records: ids.length }, 'Could not record writes of unknown fate; they may be replayed twice.');
    }
  }

  #reportUnauthorized(tier: GuardedTarget, passed: TierOutcome['passed']): void {
    const refused = passed.filter((p) => isUnauthorizedError(p.error));
    const first = refused[0]?.error as (SpillwayError & { fix?: string }) | undefined;
    if (!first) return;
    const target = tier.target.id;
    const fix = first.fix ?? 'check the credentials and permissions of this target';
    if (!this.#unauthorizedLogged.has(target)) {
      this.#unauthorizedLogged.add(target);
      this.#options.logger.error({ target, tier: tier.tier, err: first, fix }, 'Target refused our credentials; its records go to the next tier until this is fixed.');
    }
    this.#options.events.emit('target.unauthorized', { target, tier: tier.tier, records: refused.length, message: first.message, fix });
  }

  #reportFailover(from: GuardedTarget, to: GuardedTarget | undefined, passed: TierOutcome['passed']): void {
    if (passed.length === 0 || !to) return;
    const reason = passed[0]?.error.message ?? 'unknown';
    // Per batch, so debug only: state changes and the periodic failover summary carry the news.
    this.#options.logger.debug({ from: from.target.id, to: to.target.id, records: passed.length, reason }, 'Records failed over to the next tier.');
    this.#options.events.emit('bus.failover', { from: from.target.id, to: to.target.id, records: passed.length, reason });
  }

  /** Stop breakers and abort in-flight retries. Targets are closed by their owner. */
  shutdown(): void {
    this.#abort.abort();
    for (const tier of this.tiers) tier.shutdown();
  }
}
