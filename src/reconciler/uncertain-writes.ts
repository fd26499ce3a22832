/**
 * A durable list of batches whose fate in the primary is unknown: a write
 * that failed ambiguously (timed out after it was sent) and then moved to
 * another tier, or a reconciler batch in flight when the process died. Before
 * draining, the reconciler reads the primary from each batch's time, marks the
 * ids it finds as written, and removes the batch, so replay skips them.
 */
import type { CheckpointStore } from '../contracts/index.js';

/** Ids written to the primary at about `at` (ms since the epoch), fate unknown. */
export interface UncertainBatch {
  /** When the first attempt started: where the search of the primary begins. */
  readonly at: number;
  /** When the fate became unknown (the last attempt failed); settling waits from here. Defaults to `at`. */
  readonly recordedAt?: number;
  readonly ids: readonly string[];
}

const KEY = 'reconciler/uncertain-writes';

/** See the module comment. Operations are serialised, so concurrent adds and removes never lose an entry. */
export class UncertainWrites {
  readonly #store: CheckpointStore;
  #batches: UncertainBatch[] | undefined;
  #queue: Promise<unknown> = Promise.resolve();

  constructor(store: CheckpointStore) {
    this.#store = store;
  }

  /** Record a batch durably; resolves once it is on disk. */
  add(batch: UncertainBatch): Promise<void> {
    return this.#update((list) => [...list, batch]);
  }

  /** Forget batches (by identity, as returned by `add` callers or `list`). */
  remove(batches: readonly UncertainBatch[]): Promise<void> {
    const gone = new Set(batches);
    return this.#update((list) => list.filter((b) => !gone.has(b)));
  }

  /** Every batch not yet removed. */
  list(): Promise<readonly UncertainBatch[]> {
    return this.#serial(async () => this.#load());
  }

  async #load(): Promise<UncertainBatch[]> {
    if (!this.#batches) {
      const raw = await this.#store.get(KEY);
      this.#batches = raw ? (JSON.parse(raw) as UncertainBatch[]) : [];
    }
    return this.#batches;
  }

  #update(change: (list: UncertainBatch[]) => UncertainBatch[]): Promise<void> {
    return this.#serial(async () => {
      const next = change(await this.#load());
      await this.#store.set(KEY, JSON.stringify(next));
      this.#batches = next;
    });
  }

  #serial<T>(op: () => Promise<T>): Promise<T> {
    const run = this.#queue.then(op, op);
    this.#queue = run.catch(() => undefined);
    return run;
  }
}
