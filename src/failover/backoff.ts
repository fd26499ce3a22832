import { setTimeout as sleep } from 'node:timers/promises';

/** Retry pacing for throttled and partially failed calls. */
export interface BackoffOptions {
  /** First delay's upper bound in ms (default 50). */
  baseMs?: number;
  /** Largest delay in ms (default 2000). */
  capMs?: number;
}

/** Exponential backoff with full jitter: a random delay in [0, min(cap, base·2^attempt)]. */
export function backoffDelay(attempt: number, options: BackoffOptions = {}, random: () => number = Math.random): number {
  const base = options.baseMs ?? 50;
  const cap = options.capMs ?? 2_000;
  return Math.floor(random() * Math.min(cap, base * 2 ** attempt));
}

/** Wait `ms`, or reject early when `signal` aborts. */
export async function wait(ms: number, signal?: AbortSignal): Promise<void> {
  await sleep(ms, undefined, signal ? { signal } : undefined);
}
