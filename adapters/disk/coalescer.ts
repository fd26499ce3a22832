/**
 * Runs an idempotent task (persist the latest state) so that any number of
 * concurrent requests share as few runs as possible, and each request's
 * promise settles only after a run that started after the request.
 */
export interface Coalescer {
  /** Ask for a run; resolves after a run that began after this call. */
  request(): Promise<void>;
  /** Resolves once no run is in flight or queued (errors are swallowed). */
  idle(): Promise<void>;
}

/** Create a {@link Coalescer} around `task`, which must read the latest state when it starts. */
export function createCoalescer(task: () => Promise<void>): Coalescer {
  let running: Promise<void> | undefined;
  let queued: Promise<void> | undefined;

  const start = (): Promise<void> => {
    const run = task().finally(() => {
      if (running === run) running = undefined;
    });
    running = run;
    return run;
  };

  return {
    request() {
      if (queued !== undefined) return queued;
      if (running === undefined) return start();
      const next = running
        .catch(() => undefined)
        .then(() => {
          queued = undefined;
          return start();
        });
      queued = next;
      return next;
    },
    async idle() {
      while (running !== undefined || queued !== undefined) {
        await (queued ?? running)?.catch(() => undefined);
      }
    },
  };
}
