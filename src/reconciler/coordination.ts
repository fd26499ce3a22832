/**
 * Drain coordination: with several producers sharing a fallback (a secondary
 * stream every one of them reads in full), one reconciler at a time drains it,
 * for every producer, under a lease; the others leave it alone and take over
 * when the holder stops renewing.
 *
 * Invariants
 * - A fallback's sources are handed to the reconciler only while this process
 *   holds the fallback's lease; otherwise none are (its local spools still
 *   drain, since spools are per producer).
 * - Every checkpoint of a coordinated source is written through the lease's
 *   fenced store: it lands only while the token it was taken with is still the
 *   current one, so a holder that lost the lease (paused, partitioned, too
 *   slow to renew) can never move the shared position; its run fails instead
 *   and the chunk is read again by the new holder.
 * - The first drain after a lease is taken checks the primary for the ids of
 *   the backlog first (`primaryCheckNeeded`): the previous holder may have
 *   died between the primary's acknowledgement and its checkpoint, and its
 *   record of uncertain writes died with it.
 * - A lease that cannot be renewed is dropped at once, locally, before its
 *   expiry: a process never drains on a lease it is not sure of.
 */
import type { Logger } from 'pino';
import type { CheckpointStore, DrainSource } from '../contracts/index.js';
import { TransientError } from '../errors/index.js';

/** Lease primitives per fallback (see adapters/redis/reconciler-lease.ts). */
export interface FallbackLeases {
  /** Take the lease if nobody holds it; the fencing token, or undefined when held by another. */
  acquire(fallback: string, ttlMs: number): Promise<number | undefined>;
  /** Extend a lease still held with `token`; false when it lapsed or was taken over. */
  renew(fallback: string, token: number, ttlMs: number): Promise<boolean>;
  release(fallback: string, token: number): Promise<void>;
  /** Checkpoints shared by every holder, written only while `token` holds the lease. */
  fencedCheckpoints(fallback: string, token: number): CheckpointStore;
  close(): Promise<void>;
}

/** What the reconciler and the bus ask of a coordinator. */
export interface ReconcilerCoordination {
  /** True when the coming drain includes a lease taken since the last completed drain. */
  primaryCheckNeeded(): boolean;
  /** A drain finished (ok: without error). */
  drained(ok: boolean): void;
  /** Start a drain when a lease is taken on the timer. */
  attach?(kick: () => void): void;
}

/** Options for {@link DrainCoordinator}. */
export interface DrainCoordinatorOptions {
  leases: FallbackLeases;
  /** How long a lease lasts without renewal (the takeover time after a holder dies). */
  leaseMs: number;
  logger: Logger;
  /** Try for free leases on a timer too, not only when listing sources (a bus whose reconciler runs by itself). */
  contend: boolean;
  /** Called when a lease is taken on the timer, so a drain can start at once. */
  onAcquired?: (fallback: string) => void;
}

interface Held {
  token: number;
  store: CheckpointStore;
  /** No drain has completed on this lease yet. */
  fresh: boolean;
}

/** See the module comment. */
export class DrainCoordinator implements ReconcilerCoordination {
  #options: DrainCoordinatorOptions;
  readonly #held = new Map<string, Held>();
  readonly #known = new Set<string>();
  /** Fresh leases whose sources went into the current run. */
  #included = new Set<string>();
  /** Per fallback, the fenced store of the lease its sources were last listed under. */
  readonly #listed = new Map<string, CheckpointStore>();
  #timer: NodeJS.Timeout | undefined;
  #closed = false;
  #ticking = false;

  constructor(options: DrainCoordinatorOptions) {
    this.#options = options;
    this.#timer = setInterval(() => {
      if (this.#ticking) return;
      this.#ticking = true;
      void this.#tick().finally(() => {
        this.#ticking = false;
      });
    }, Math.max(100, Math.floor(options.leaseMs / 3))).unref();
  }

  /** Call `kick` whenever a lease is taken on the timer. */
  attach(kick: () => void): void {
    const before = this.#options.onAcquired;
    this.#options.onAcquired = (fallback) => {
      before?.(fallback);
      kick();
    };
  }

  /** The fallbacks this process holds the lease of now. */
  get holding(): string[] {
    return [...this.#held.keys()];
  }

  /**
   * The sources of `fallback` if this process holds (or can take) its lease,
   * otherwise none. `list` is called only when it does.
   */
  async sourcesOf(fallback: string, list: () => Promise<DrainSource[]>): Promise<DrainSource[]> {
    this.#known.add(fallback);
    // Taken on the timer meanwhile counts as held: the second acquire of the same process finds the lease taken.
    const held = this.#held.get(fallback) ?? (await this.#tryAcquire(fallback)) ?? this.#held.get(fallback);
    if (!held) return [];
    if (held.fresh) this.#included.add(fallback);
    this.#listed.set(fallback, held.store);
    return list();
  }

  /**
   * The checkpoint store of a coordinated fallback, fenced by the lease its
   * sources were listed under (a write fails once that lease is gone, even if
   * this process has taken a newer one since); throws when never listed.
   */
  checkpoints(fallback: string): CheckpointStore {
    const store = this.#listed.get(fallback);
    if (!store) throw new TransientError(`this process has not taken the drain lease of ${fallback}; its checkpoint is left to the holder`);
    return store;
  }

  /** True when the coming drain includes a lease taken since the last completed drain. */
  primaryCheckNeeded(): boolean {
    return this.#included.size > 0;
  }

  /** A drain finished: without error, its fresh leases are fresh no longer. */
  drained(ok: boolean): void {
    if (ok) {
      for (const fallback of this.#included) {
        const held = this.#held.get(fallback);
        if (held) held.fresh = false;
      }
    }
    this.#included = new Set();
  }

  /** Stop renewing and release every lease held (a clean hand-over: the next contender takes it at once). */
  async close(): Promise<void> {
    this.#closed = true;
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = undefined;
    const held = [...this.#held.entries()];
    this.#held.clear();
    await Promise.all(held.map(([fallback, h]) => this.#options.leases.release(fallback, h.token).catch(() => undefined)));
    await this.#options.leases.close();
  }

  async #tryAcquire(fallback: string): Promise<Held | undefined> {
    if (this.#closed) return undefined;
    const { leases, leaseMs, logger } = this.#options;
    const token = await leases.acquire(fallback, leaseMs);
    if (token === undefined || this.#closed) {
      if (token !== undefined) await leases.release(fallback, token).catch(() => undefined);
      return undefined;
    }
    const held: Held = { token, store: leases.fencedCheckpoints(fallback, token), fresh: true };
    this.#held.set(fallback, held);
    logger.info({ fallback, token }, 'Took the drain lease of a shared fallback; this reconciler drains it for every producer.');
    return held;
  }

  async #tick(): Promise<void> {
    const { leases, leaseMs, logger } = this.#options;
    for (const [fallback, held] of [...this.#held.entries()]) {
      if (this.#closed) return;
      const renewed = await leases.renew(fallback, held.token, leaseMs).catch((error: unknown) => {
        logger.warn({ fallback, err: error }, 'Could not renew the drain lease; dropping it so that another reconciler can take over.');
        return false;
      });
      if (!renewed && this.#held.get(fallback) === held) {
        this.#held.delete(fallback);
        logger.warn({ fallback, token: held.token }, 'Lost the drain lease of a shared fallback; its records are left to the new holder.');
      }
    }
    if (!this.#options.contend) return;
    for (const fallback of this.#known) {
      if (this.#held.has(fallback)) continue;
      const held = await this.#tryAcquire(fallback).catch((error: unknown) => {
        logger.debug({ fallback, err: error }, 'Could not try for the drain lease; trying again on the next tick.');
        return undefined;
      });
      if (held) this.#options.onAcquired?.(fallback);
    }
  }
}

/**
 * A checkpoint store that sends the keys of coordinated sources (those that
 * start with `prefix` then a fallback's id) to that fallback's fenced store,
 * and every other key to `local`.
 */
export function routeCheckpoints(local: CheckpointStore, coordinator: DrainCoordinator, fallbacks: readonly string[], prefix: string): CheckpointStore {
  const fallbackOf = (key: string): string | undefined => {
    if (!key.startsWith(prefix)) return undefined;
    const rest = key.slice(prefix.length);
    return fallbacks.find((f) => rest === f || rest.startsWith(`${f}/`));
  };
  return {
    get: (key) => {
      const f = fallbackOf(key);
      return f ? coordinator.checkpoints(f).get(key) : local.get(key);
    },
    set: (key, value) => {
      const f = fallbackOf(key);
      return f ? coordinator.checkpoints(f).set(key, value) : local.set(key, value);
    },
    close: () => local.close(),
  };
}
