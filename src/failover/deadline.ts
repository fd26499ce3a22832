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
 * A signal that aborts with `signal`'s reason when `signal` aborts, or with a
 * `TimeoutError` after `ms` ms. The timer does not keep the process alive; the
 * listener on `signal` is removed once either happens, so a long-lived
 * `signal` does not collect one listener per call.
 */
export function deadlineSignal(signal: AbortSignal | undefined, ms: number): AbortSignal {
  const controller = new AbortController();
  if (signal?.aborted) {
    controller.abort(signal.reason);
    return controller.signal;
  }
  const onAbort = (): void => {
    clearTimeout(timer);
    controller.abort(signal?.reason);
  };
  const timer = setTimeout(() => {
    signal?.removeEventListener('abort', onAbort);
    controller.abort(timeoutReason());
  }, ms);
  timer.unref();
  signal?.addEventListener('abort', onAbort, { once: true });
  return controller.signal;
}
