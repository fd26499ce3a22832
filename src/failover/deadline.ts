/**
 * Deadlines for calls: a signal that aborts when `signal` does or `ms` after
 * now, whichever comes first.
 *
 * Not `AbortSignal.any([signal, AbortSignal.timeout(ms)])`: on Node 20 the
 * timeout signal inside such a composite is held only weakly (by its timer and
 * by the composite), so a garbage collection before it fires takes it, and the
 * composite then never aborts (nodejs/node#57736). A call to a target that
 * accepts the connection and never answers would wait for ever. Here the timer
 * holds the controller strongly until it fires.
 */

/** What `AbortSignal.timeout` aborts with, so callers that look at the reason see the same thing. */
function timeoutReason(): DOMException {
  return new DOMException('The operation was aborted due to timeout', 'TimeoutError');
}

/**
 * The deadlines following each caller signal. One listener per caller signal
 * aborts them all: a long-lived signal (a bus's) does not collect a listener
 * per call (nor Node's "possible memory leak" warning past ten).
 */
const followers = new WeakMap<AbortSignal, Set<AbortController>>();

function follow(signal: AbortSignal, controller: AbortController): Set<AbortController> {
  let set = followers.get(signal);
  if (!set) {
    const created = new Set<AbortController>();
    signal.addEventListener(
      'abort',
      () => {
        for (const c of created) c.abort(signal.reason);
        created.clear();
      },
      { once: true },
    );
    followers.set(signal, created);
    set = created;
  }
  set.add(controller);
  return set;
}

/**
 * A signal that aborts with `signal`'s reason when `signal` aborts, or with a
 * `TimeoutError` after `ms` ms. The timer does not keep the process alive;
 * once the deadline passes, `signal` no longer refers to it. A call that ends
 * before its deadline leaves the timer to fire for nothing: prefer
 * {@link withDeadline} where the call's end is known.
 */
export function deadlineSignal(signal: AbortSignal | undefined, ms: number): AbortSignal {
  return startDeadline(signal, ms).signal;
}

/**
 * Run `call` with a deadline signal (as {@link deadlineSignal}) and drop the
 * deadline as soon as the call settles: no timer left to fire later and no
 * reference from `signal` to a finished call.
 */
export async function withDeadline<T>(signal: AbortSignal | undefined, ms: number, call: (deadline: AbortSignal) => Promise<T>): Promise<T> {
  const deadline = startDeadline(signal, ms);
  try {
    return await call(deadline.signal);
  } finally {
    deadline.release();
  }
}

function startDeadline(signal: AbortSignal | undefined, ms: number): { signal: AbortSignal; release(): void } {
  const controller = new AbortController();
  if (signal?.aborted) {
    controller.abort(signal.reason);
    return { signal: controller.signal, release() {} };
  }
  const set = signal ? follow(signal, controller) : undefined;
  const timer = setTimeout(() => {
    set?.delete(controller);
    controller.abort(timeoutReason());
  }, ms);
  timer.unref();
  // Aborted by `signal`: the timer has nothing left to do.
  controller.signal.addEventListener('abort', () => clearTimeout(timer), { once: true });
  return {
    signal: controller.signal,
    release() {
      clearTimeout(timer);
      set?.delete(controller);
    },
  };
}
