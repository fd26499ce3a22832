/**
 * The dedupe window in front of the handler: an id already handled (by this
 * process or, through a shared store, by another) is dropped.
 *
 * Invariants:
 * - an id is marked seen in the store only after its handler succeeded or it
 *   was dead-lettered, and before its shard's checkpoint may pass it;
 * - within this process, an id in flight or recently finished is never
 *   handed over again (a copy read from another tier at the same time);
 * - with a claiming store, an id another live worker has claimed is waited
 *   for, never dropped: it is dropped only once that worker marked it seen,
 *   and taken over if its claim expires (the worker died mid-handler);
 * - a claim this worker holds is renewed every third of the claim time until
 *   the id is marked seen or abandoned (or the gate closes), however long the
 *   record waits in the dispatcher or its handler runs: a claim lapses only
 *   when its worker died or stalled, as a shard lease does. A claim found lost
 *   (taken by another worker after a stall) is reported by `claimLost`, and the
 *   record waits for that worker like any busy id.
 */
import type { DedupeStore } from '../contracts/stores.js';
import type { ClaimingDedupeStore } from './types.js';

/** Options for {@link createDedupeGate}. */
export interface DedupeGateOptions {
  store: DedupeStore | ClaimingDedupeStore;
  ttlMs: number;
  /** How long a claim holds an id for this worker (the takeover time). */
  claimMs: number;
  /** Finished ids remembered in memory (default 100000). */
  recentSize?: number;
  /** A claim renewal failed (it is tried again a third of the claim time later). */
  onRenewError?(error: unknown): void;
}

/** Verdict on one id. */
export type Admission = 'go' | 'duplicate' | 'busy';

/** The dedupe gate. */
export interface DedupeGate {
  /** Ask the store about a page of ids at once. */
  check(ids: readonly string[]): Promise<Admission[]>;
  /** Ask again about one id another worker had claimed. */
  recheck(id: string): Promise<Admission>;
  /** Take an id for handling in this process; false when it is already in flight or finished here. */
  admit(id: string): boolean;
  /**
   * The id's handler finished: mark it seen, batched with the others of this
   * turn of the event loop (one store write, no promise per id); `done` is
   * called once the write succeeded (no argument) or failed (the error).
   */
  finish(id: string, done: (error?: Error) => void): void;
  /** The id was not finished (closing): let it be handled again later. */
  abandon(id: string): void;
  /** True when this worker's claim on the id was found taken by another worker (its handler must not start yet). */
  claimLost(id: string): boolean;
  /** Stop renewing claims (the consumer closed; unfinished claims lapse after the claim time). */
  close(): void;
}

const IN_FLIGHT = 1;
const RECENT = 2;

function isClaiming(store: DedupeStore | ClaimingDedupeStore): store is ClaimingDedupeStore {
  return typeof (store as ClaimingDedupeStore).claim === 'function';
}

/** A gate over `options.store`. */
export function createDedupeGate(options: DedupeGateOptions): DedupeGate {
  const { store, ttlMs, claimMs } = options;
  const recentSize = options.recentSize ?? 100_000;
  // One table for ids in flight here and ids finished recently: one lookup per question.
  const held = new Map<string, typeof IN_FLIGHT | typeof RECENT>();
  // The finished ids, oldest first, as a ring: each is RECENT in `held` until its slot is reused.
  const recentOrder: Array<string | undefined> = [];
  let recentNext = 0;
  let batch: { ids: string[]; done: Array<(error?: Error) => void> } | undefined;
  const claims = createClaimRenewal(store, claimMs, options.onRenewError);

  function remember(id: string): void {
    if (held.get(id) === RECENT) return;
    held.set(id, RECENT);
    const oldest = recentOrder[recentNext];
    if (oldest !== undefined) held.delete(oldest);
    recentOrder[recentNext] = id;
    recentNext = (recentNext + 1) % recentSize;
  }

  function write(ids: string[], done: Array<(error?: Error) => void>): void {
    let written: Promise<void>;
    try {
      written = store.markSeen(ids, ttlMs);
    } catch (error) {
      written = Promise.reject(error);
    }
    written.then(
      () => {
        for (let i = 0; i < ids.length; i++) {
          remember(ids[i] as string);
          claims?.drop(ids[i] as string);
          (done[i] as (error?: Error) => void)();
        }
      },
      (error: unknown) => {
        const failure = error instanceof Error ? error : new Error(String(error));
        for (const d of done) d(failure);
      },
    );
  }

  async function ask(ids: readonly string[]): Promise<Admission[]> {
    if (ids.length === 0) return [];
    if (isClaiming(store)) {
      const verdicts = await store.claim(ids, claimMs);
      return verdicts.map((v, i) => {
        if (v !== 'claimed') return v === 'seen' ? 'duplicate' : 'busy';
        claims?.hold(ids[i] as string);
        return 'go';
      });
    }
    const unseen = await store.filterUnseen(ids);
    // `filterUnseen` keeps the given order (its contract), so one pass pairs them up.
    const verdicts = new Array<Admission>(ids.length);
    let j = 0;
    for (let i = 0; i < ids.length; i++) {
      if (j < unseen.length && unseen[j] === ids[i]) {
        verdicts[i] = 'go';
        j++;
      } else verdicts[i] = 'duplicate';
    }
    if (j === unseen.length) return verdicts;
    const unseenSet = new Set(unseen); // a store that did not keep the order: match by value
    return ids.map((id) => (unseenSet.has(id) ? 'go' : 'duplicate'));
  }

  return {
    check: ask,
    async recheck(id) {
      return (await ask([id]))[0] as Admission;
    },
    admit(id) {
      if (held.has(id)) return false;
      held.set(id, IN_FLIGHT);
      return true;
    },
    finish(id, done) {
      if (!batch) {
        const next = { ids: [] as string[], done: [] as Array<(error?: Error) => void> };
        batch = next;
        setImmediate(() => {
          batch = undefined;
          write(next.ids, next.done);
        });
      }
      batch.ids.push(id);
      batch.done.push(done);
    },
    abandon(id) {
      if (held.get(id) === IN_FLIGHT) held.delete(id);
      claims?.drop(id);
    },
    claimLost: (id) => claims?.lost(id) ?? false,
    close: () => claims?.close(),
  };
}

/**
 * The claims this worker holds and has not finished, renewed every third of
 * `claimMs` (the claiming store's `claim` re-arms the expiry of its own claim).
 *
 * Why renew rather than claim each id just before its handler runs: claiming
 * per record would put a store round trip in front of every handler call, one
 * at a time per key, where a page is now claimed in one call; and it would
 * still let a claim lapse under a handler that runs longer than `claimMs`.
 * Renewing keeps one batched call per page plus one per renewal period for all
 * ids in hand, and makes a claim mean what a shard lease means: held while its
 * worker is alive, lapsing `claimMs` after the worker died or stalled.
 */
function createClaimRenewal(store: DedupeStore | ClaimingDedupeStore, claimMs: number, onError: ((error: unknown) => void) | undefined) {
  if (!isClaiming(store)) return undefined;
  const claiming: ClaimingDedupeStore = store;
  const held = new Set<string>();
  const taken = new Set<string>();
  let timer: NodeJS.Timeout | undefined;
  let renewing = false;
  let closed = false;

  function stopIfIdle(): void {
    if (held.size === 0 && timer !== undefined) {
      clearInterval(timer);
      timer = undefined;
    }
  }

  async function renew(): Promise<void> {
    if (renewing) return; // the previous round is still waiting for the store: skip this tick
    renewing = true;
    try {
      const ids = [...held];
      for (let i = 0; i < ids.length && !closed; i += RENEW_BATCH) {
        const part = ids.slice(i, i + RENEW_BATCH);
        const verdicts = await claiming.claim(part, claimMs);
        for (let j = 0; j < part.length; j++) {
          const id = part[j] as string;
          // Finished or abandoned meanwhile: its verdict (often `seen`, by our own mark) says nothing about the claim.
          if (!held.has(id)) continue;
          if (verdicts[j] === 'claimed') {
            taken.delete(id);
            continue;
          }
          taken.add(id); // another worker took it after our claim lapsed (a stall), or it is already marked seen
          if (verdicts[j] === 'seen') held.delete(id); // nothing left to renew; a waiting copy finds it seen and drops it
        }
      }
      stopIfIdle();
    } catch (error) {
      // A renewal cut short by the consumer closing (its stores close too) is not worth a warning.
      if (!closed) onError?.(error);
    } finally {
      renewing = false;
    }
  }

  return {
    hold(id: string): void {
      if (closed) return;
      held.add(id);
      taken.delete(id);
      if (timer === undefined) {
        timer = setInterval(() => void renew(), Math.max(1, Math.floor(claimMs / 3)));
        timer.unref();
      }
    },
    drop(id: string): void {
      held.delete(id);
      taken.delete(id);
      stopIfIdle();
    },
    lost: (id: string): boolean => taken.size > 0 && taken.has(id),
    close(): void {
      closed = true;
      if (timer !== undefined) clearInterval(timer);
      timer = undefined;
      held.clear();
      taken.clear();
    },
  };
}

/** Ids per renewal call (one Lua script run each). */
const RENEW_BATCH = 1_000;
