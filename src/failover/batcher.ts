/**
 * Collects single sends into batches for the router. One batch is in flight
 * at a time, which keeps per-partition-key order from producer to tier;
 * records sent while a batch is in flight form the next batch.
 */
import type { Envelope } from '../envelope/index.js';
import type { DispatchOutcome, LandedOn } from './router.js';
import { recordBytes } from './chunk.js';

/** Batching knobs; all have defaults. */
export interface BatcherOptions {
  /** Records per dispatched batch (default 500, a PutRecords call). */
  maxBatchRecords?: number;
  /** Bytes per dispatched batch (default 5 MiB, a PutRecords call). */
  maxBatchBytes?: number;
  /** How long a lone record waits for company, in ms (default 0: the same tick). */
  lingerMs?: number;
  /** Records waiting before `submit` itself waits for room (default 50000). */
  maxQueuedRecords?: number;
}

interface Pending {
  envelope: Envelope;
  resolve: (landed: LandedOn) => void;
  reject: (error: unknown) => void;
}

/** See the module comment. */
export class SendBatcher {
  readonly #dispatch: (batch: readonly Envelope[]) => Promise<DispatchOutcome[]>;
  readonly #maxRecords: number;
  readonly #maxBytes: number;
  readonly #lingerMs: number;
  readonly #maxQueued: number;
  #queue: Pending[] = [];
  #running: Promise<void> | undefined;
  #timer: { cancel(): void } | undefined;
  #roomWaiters: Array<() => void> = [];

  constructor(dispatch: (batch: readonly Envelope[]) => Promise<DispatchOutcome[]>, options: BatcherOptions = {}) {
    this.#dispatch = dispatch;
    this.#maxRecords = options.maxBatchRecords ?? 500;
    this.#maxBytes = options.maxBatchBytes ?? 5 * 1_048_576;
    this.#lingerMs = options.lingerMs ?? 0;
    this.#maxQueued = options.maxQueuedRecords ?? 50_000;
  }

  /** Records waiting or in flight. */
  get queued(): number {
    return this.#queue.length;
  }

  /** Queue one record; resolves where it landed, rejects with the router's error. */
  async submit(envelope: Envelope): Promise<LandedOn> {
    while (this.#queue.length >= this.#maxQueued) await new Promise<void>((r) => this.#roomWaiters.push(r));
    const landed = new Promise<LandedOn>((resolve, reject) => this.#queue.push({ envelope, resolve, reject }));
    this.#schedule();
    return landed;
  }

  /** Resolves once every record submitted so far has an outcome. */
  async flush(): Promise<void> {
    if (this.#timer) {
      this.#timer.cancel();
      this.#timer = undefined;
      this.#start();
    }
    while (this.#running) await this.#running;
  }

  #schedule(): void {
    if (this.#running || this.#timer) return;
    // setImmediate, not setTimeout(0): Node rounds a 0 ms timer up to 1 ms, which a lone awaited send would pay.
    if (this.#queue.length >= this.#maxRecords || this.#lingerMs === 0) {
      const handle = setImmediate(() => this.#start());
      this.#timer = { cancel: () => clearImmediate(handle) };
      return;
    }
    const handle = setTimeout(() => this.#start(), this.#lingerMs);
    this.#timer = { cancel: () => clearTimeout(handle) };
  }

  #start(): void {
    this.#timer = undefined;
    if (this.#running || this.#queue.length === 0) return;
    this.#running = this.#drain().finally(() => {
      this.#running = undefined;
    });
  }

  async #drain(): Promise<void> {
    while (this.#queue.length > 0) {
      const batch = this.#take();
      this.#wakeWaiters();
      try {
        const outcomes = await this.#dispatch(batch.map((p) => p.envelope));
        batch.forEach((p, i) => {
          const outcome = outcomes[i] as DispatchOutcome;
          if (outcome.ok) p.resolve(outcome.landedOn);
          else p.reject(outcome.error);
        });
      } catch (error) {
        for (const p of batch) p.reject(error);
      }
    }
  }

  #take(): Pending[] {
    let bytes = 0;
    let n = 0;
    while (n < this.#queue.length && n < this.#maxRecords) {
      const size = recordBytes((this.#queue[n] as Pending).envelope);
      if (n > 0 && bytes + size > this.#maxBytes) break;
      bytes += size;
      n++;
    }
    return this.#queue.splice(0, n);
  }

  #wakeWaiters(): void {
    const waiters = this.#roomWaiters.splice(0, this.#maxQueued - this.#queue.length);
    for (const wake of waiters) wake();
  }
}
