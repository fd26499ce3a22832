/**
 * Hands records to a processing function: in order per partition key (one
 * lane per key, one record of a lane at a time), up to `concurrency` keys at
 * once, and at most `maxInFlight` records accepted and not finished, so
 * readers wait for room (backpressure).
 *
 * `process` gets a `release` callback: the lane moves on as soon as `process`
 * returns (or, when it returns a promise, once that settles: the handler is
 * done), while the item still counts towards `maxInFlight` until `release` is
 * called (its bookkeeping is durable). A `process` that finishes synchronously
 * costs no promise: the lanes are worked in a loop, not by recursion.
 *
 * Invariants: records of one key start in the order pushed, each after the
 * previous one of that key was handled; `process` is expected not to throw (it
 * owns retries and dead-lettering), and a throw is reported to `onError` and
 * releases the item; `release` counts once per item however often it is called.
 */

/** Options for {@link createDispatcher}. */
export interface DispatcherOptions<T> {
  concurrency: number;
  maxInFlight: number;
  keyOf(item: T): string;
  /** Handle `item`; call `release` once it no longer counts towards `maxInFlight`. */
  process(item: T, release: () => void): Promise<void> | void;
  onError(error: unknown, item: T): void;
}

/** A per-key ordered, bounded work queue. */
export interface Dispatcher<T> {
  /** Accept one item; resolves once there is room for it (it may still be waiting to run). */
  push(item: T): Promise<void>;
  /** Accept one item if there is room now (true); false, and nothing done, when `push` would have to wait. */
  offer(item: T): boolean;
  /** Items accepted and not finished. */
  readonly inFlight: number;
  /** Resolves when nothing is in flight. */
  idle(): Promise<void>;
}

/** A dispatcher over lanes keyed by `keyOf`. */
export function createDispatcher<T>(options: DispatcherOptions<T>): Dispatcher<T> {
  const lanes = new Map<string, T[]>();
  const ready: string[] = [];
  let readyHead = 0;
  let active = 0;
  let inFlight = 0;
  let pumping = false;
  const roomWaiters: Array<() => void> = [];
  const idleWaiters: Array<() => void> = [];

  function release(): void {
    inFlight--;
    if (roomWaiters.length > 0 && inFlight < options.maxInFlight) for (const w of roomWaiters.splice(0)) w();
    if (inFlight === 0) for (const w of idleWaiters.splice(0)) w();
  }

  function pump(): void {
    if (pumping) return; // the loop below picks up what was just made ready
    pumping = true;
    try {
      while (active < options.concurrency && readyHead < ready.length) {
        const key = ready[readyHead++] as string;
        if (readyHead > 1024 && readyHead * 2 > ready.length) {
          ready.splice(0, readyHead);
          readyHead = 0;
        }
        active++;
        runOne(key);
      }
    } finally {
      pumping = false;
    }
  }

  /** A release for one item that counts once however often it is called. */
  function onceRelease(): () => void {
    let released = false;
    return () => {
      if (released) return;
      released = true;
      release();
    };
  }

  /** The lane's record is handled: the next of its key may start. */
  function laneDone(key: string, lane: T[]): void {
    active--;
    if (lane.length > 0) ready.push(key);
    else lanes.delete(key);
  }

  function runOne(key: string): void {
    const lane = lanes.get(key) as T[];
    const item = lane.shift() as T;
    const releaseOnce = onceRelease();
    let result: Promise<void> | void;
    try {
      result = options.process(item, releaseOnce);
    } catch (error) {
      options.onError(error, item);
      releaseOnce();
      result = undefined;
    }
    if (result === undefined) {
      laneDone(key, lane);
      return;
    }
    result.then(
      () => {
        laneDone(key, lane);
        pump();
      },
      (error: unknown) => {
        options.onError(error, item);
        releaseOnce();
        laneDone(key, lane);
        pump();
      },
    );
  }

  function accept(item: T): void {
    inFlight++;
    const key = options.keyOf(item);
    const lane = lanes.get(key);
    if (lane) lane.push(item);
    else {
      lanes.set(key, [item]);
      ready.push(key);
    }
    pump();
  }

  return {
    async push(item) {
      while (inFlight >= options.maxInFlight) await new Promise<void>((resolve) => roomWaiters.push(resolve));
      accept(item);
    },
    offer(item) {
      if (inFlight >= options.maxInFlight) return false;
      accept(item);
      return true;
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
