/** The breaker wrapper: failures counted by call start, slow failures, and a half-open state that never holds live traffic. Fake timers drive time. */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { PutResult, Target } from '../../src/contracts/index.js';
import { ThrottledError, TransientError } from '../../src/errors/index.js';
import { BusEvents } from '../../src/events/bus-events.js';
import { type BreakerOptions, FailureEvidence, guardTarget } from '../../src/failover/breaker.js';
import { silentLogger } from '../helpers/bus-parts.js';

/** A target whose probe is scripted: it resolves, rejects, or hangs until aborted. */
function probeTarget() {
  const state = { probes: 0, probe: 'ok' as 'ok' | 'fail' | 'hang', release: undefined as (() => void) | undefined };
  const target: Target = {
    id: 'test:primary',
    maxBatchRecords: 500,
    maxBatchBytes: 5_000_000,
    put: async (): Promise<PutResult> => ({ failed: [] }),
    probe: async () => {
      state.probes++;
      if (state.probe === 'fail') throw new TransientError('still down');
      if (state.probe === 'hang') await new Promise<void>((resolve) => (state.release = resolve));
    },
    close: async () => {},
  };
  return { target, state };
}

/** An op that fails after `ms` of fake time. */
const failAfter = (ms: number, error = new TransientError('timed out', { ambiguous: true })) => () =>
  new Promise<never>((_, reject) => setTimeout(() => reject(error), ms));
const okAfter = (ms: number) => () => new Promise<string>((resolve) => setTimeout(() => resolve('ok'), ms));

function guard(options: BreakerOptions = {}) {
  const { target, state } = probeTarget();
  const events = new BusEvents();
  const seen: string[] = [];
  events.on('breaker.open', () => seen.push('open'));
  events.on('breaker.halfOpen', () => seen.push('halfOpen'));
  events.on('breaker.close', () => seen.push('close'));
  const guarded = guardTarget(target, 'primary', { volumeThreshold: 1_000, resetTimeoutMs: 5_000, ...options }, events, silentLogger);
  return { guarded, state, seen };
}

/** Fail one call slowly (fake time) so a breaker with a small slowFailureMs opens. */
async function openBySlowFailure(guarded: ReturnType<typeof guard>['guarded']): Promise<void> {
  const call = guarded.fire(failAfter(5)).catch(() => undefined);
  await vi.advanceTimersByTimeAsync(5);
  await call;
}

describe('breaker', () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it('counts concurrent timeouts together: eight lanes hanging open it after one timeout window', async () => {
    const { guarded, seen } = guard({ slowFailureMs: 0 });
    const early = guarded.fire(okAfter(2_100)); // started first, answers late
    const calls = Array.from({ length: 8 }, () => guarded.fire(failAfter(2_000)).catch(() => 'failed'));
    await vi.advanceTimersByTimeAsync(2_000);
    await Promise.all(calls);
    expect(guarded.state).toBe('open');
    expect(seen).toEqual(['open']);
    await vi.advanceTimersByTimeAsync(100);
    await expect(early).resolves.toBe('ok');
    expect(guarded.state).toBe('open'); // a late success of an older call does not close it
    guarded.shutdown();
  });

  it('does not let a late success of an older call wipe out newer failures', () => {
    const evidence = new FailureEvidence();
    expect(evidence.failure(10, 2_010, 10_000)).toEqual({ counts: true, recent: 1 });
    expect(evidence.failure(11, 2_011, 10_000)).toEqual({ counts: true, recent: 2 });
    evidence.success(5); // started before both failures
    expect(evidence.failure(12, 2_012, 10_000)).toEqual({ counts: true, recent: 3 });
    evidence.success(20); // started after them: the target answered since
    expect(evidence.failure(13, 2_013, 10_000)).toEqual({ counts: false, recent: 0 });
    expect(evidence.failure(30, 2_030, 10_000)).toEqual({ counts: true, recent: 1 });
    expect(evidence.failure(31, 10_031, 10_000)).toEqual({ counts: true, recent: 1 }); // the one at 30 left the window
  });

  it('opens on one slow failure (a timeout), so the next batch does not wait again', async () => {
    const { guarded } = guard({ slowFailureMs: 1_000 });
    const call = guarded.fire(failAfter(2_000)).catch((e: Error) => e.message);
    await vi.advanceTimersByTimeAsync(2_000);
    expect(await call).toBe('timed out');
    expect(guarded.state).toBe('open');
    await expect(guarded.fire(okAfter(1))).rejects.toThrow(/breaker: it is open/);
    guarded.shutdown();
  });

  it('needs consecutiveFailures fast failures (refusals) to open, and ignores throttling', async () => {
    const { guarded } = guard({ consecutiveFailures: 3 });
    const refuse = () => Promise.reject(new TransientError('ECONNREFUSED'));
    for (let i = 0; i < 5; i++) await guarded.fire(() => Promise.reject(new ThrottledError('slow down'))).catch(() => undefined);
    await guarded.fire(refuse).catch(() => undefined);
    await guarded.fire(refuse).catch(() => undefined);
    expect(guarded.state).toBe('closed');
    await guarded.fire(refuse).catch(() => undefined);
    expect(guarded.state).toBe('open');
    guarded.shutdown();
  });

  it('half-open: only the probe reaches the target; live calls fail fast while it hangs, and it closes when the probe answers', async () => {
    const { guarded, state, seen } = guard({ slowFailureMs: 1 });
    await openBySlowFailure(guarded);
    expect(guarded.state).toBe('open');
    state.probe = 'hang';
    await vi.advanceTimersByTimeAsync(5_000);
    expect(guarded.state).toBe('halfOpen');
    expect(state.probes).toBe(1);
    const live = vi.fn(okAfter(1));
    for (let i = 0; i < 10; i++) await expect(guarded.fire(live)).rejects.toThrow(/a probe is in flight/);
    expect(live).not.toHaveBeenCalled();
    state.release?.();
    await vi.advanceTimersByTimeAsync(0);
    expect(guarded.state).toBe('closed');
    const after = guarded.fire(live);
    await vi.advanceTimersByTimeAsync(1);
    await expect(after).resolves.toBe('ok');
    expect(seen).toEqual(['open', 'halfOpen', 'close']);
    guarded.shutdown();
  });

  it('a failed probe re-opens the breaker and the next probe comes after resetTimeoutMs', async () => {
    const { guarded, state, seen } = guard({ slowFailureMs: 1 });
    await openBySlowFailure(guarded);
    state.probe = 'fail';
    await vi.advanceTimersByTimeAsync(5_000);
    expect(state.probes).toBe(1);
    expect(guarded.state).toBe('open');
    await vi.advanceTimersByTimeAsync(4_999);
    expect(state.probes).toBe(1);
    state.probe = 'ok';
    await vi.advanceTimersByTimeAsync(1);
    expect(state.probes).toBe(2);
    expect(guarded.state).toBe('closed');
    expect(seen).toEqual(['open', 'halfOpen', 'open', 'halfOpen', 'close']);
    guarded.shutdown();
  });
});
