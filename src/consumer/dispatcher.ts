/**
 * Hands records to a processing function: in order per partition key (one
 * lane per key, one record of a lane at a time), up to `concurrency` keys at
 * once, and at most `maxInFlight` records accepted and not finished, so
 * readers wait for room (backpressure).
 *
 * `process` may hand back a `settled` promise: the lane moves on as soon as
 * `process` resolves (the handler is done), while the item still counts
 * towards `maxInFlight` until `settled` resolves (its bookkeeping is durable).
 *
 * Invariants: records of one key start in the order pushed, each after the
 * previous one of that key was handled; `process` is expected not to throw (it
 * owns retries and dead-lettering), and a throw is reported to `onError`.
 */

/** Options for {@link createDispatcher}. */
export interface DispatcherOptions<T> {
  concurrency: number;
  maxInFlight: number;
  keyOf(item: T): string;
  process(item: T): Promise<{ settled: Promise<void> } | void>;
  onError(error: unknown, item: T): void;
}

/** A per-key ordered, bounded work queue. */
export interface Dispatcher<T> {
  /** Accept one item; resolves once there is room for it (it may still be waiting to run). */
  push(item: T): Promise<void>;
  /** Items accepted and not finished. */
  readonly inFlight: number;
  /** Resolves when nothing is in flight. */
  idle(): Promise<void>;
}

/** A dispatcher over lanes keyed by `keyOf`. */
export function createDispatcher<T>(options: DispatcherOptions<T>): Dispatcher<T> {
  const lanes = new Map<string, T[]>();
  const ready: string[] = [];
  let active = 0;
  let inFlight = 0;
  const roomWaiters: Array<() => void> = [];
  const idleWaiters: Array<() => void> = [];

  function release(): void {
    inFlight--;
    if (inFlight < options.maxInFlight) for (const w of roomWaiters.splice(0)) w();
    if (inFlight === 0) for (const w of idleWaiters.splice(0)) w();
  }

  function pump(): void {
    while (active < options.concurrency && ready.length > 0) {
      const key = ready.shift() as string;
      active++;
      void runOne(key);
    }
  }

  async function runOne(key: string): Promise<void> {
    const lane = lanes.get(key) as T[];
    const item = lane.shift() as T;
    let settled: Promise<void> | undefined;
    try {
      settled = (await options.process(item))?.settled;
    } catch (error) {
      options.onError(error, item);
    }
    active--;
    if (lane.length > 0) ready.push(key);
    else lanes.delete(key);
    if (settled) void settled.catch((error: unknown) => options.onError(error, item)).finally(release);
    else release();
    pump();
  }

  return {
    async push(item) {
      while (inFlight >= options.maxInFlight) await new Promise<void>((resolve) => roomWaiters.push(resolve));
      inFlight++;
      const key = options.keyOf(item);
      const lane = lanes.get(key);
      if (lane) lane.push(item);
      else {
        lanes.set(key, [item]);
        ready.push(key);
      }
      pump();
    },
    get inFlight() {
      return inFlight;
    },
    idle() {
      if (inFlight === 0) return Promise.resolve();
      return new Promise((resolve) => idleWaiters.push(resolve));
    },
  };
}
