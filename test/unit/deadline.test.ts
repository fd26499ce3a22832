/**
 * Call deadlines: they fire even when a garbage collection runs while they
 * wait (the Node 20 `AbortSignal.any` + `AbortSignal.timeout` composite does
 * not), follow the caller's signal, and leave no listener behind on it.
 */
import { getEventListeners } from 'node:events';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { describe, expect, it, vi } from 'vitest';
import { deadlineSignal, withDeadline } from '../../src/failover/deadline.js';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

/** Resolves with the abort reason, or rejects after `ms`. */
function aborted(signal: AbortSignal, ms: number): Promise<unknown> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) resolve(signal.reason);
    const timer = setTimeout(() => reject(new Error(`not aborted within ${ms} ms`)), ms);
    signal.addEventListener('abort', () => {
      clearTimeout(timer);
      resolve(signal.reason);
    });
  });
}

describe('deadlineSignal', () => {
  it('fires its deadline although garbage collections run while it waits; the caller signal keeps one listener, not one per call', async () => {
    const parent = new AbortController();
    const signals = Array.from({ length: 20 }, () => deadlineSignal(parent.signal, 80));
    gc();
    await new Promise((resolve) => setImmediate(resolve));
    gc();
    const reasons = await Promise.all(signals.map((s) => aborted(s, 2_000)));
    for (const reason of reasons) expect((reason as DOMException).name).toBe('TimeoutError');
    expect(getEventListeners(parent.signal, 'abort').length).toBeLessThanOrEqual(1);
    expect(parent.signal.aborted).toBe(false);
  });

  it('aborts with the caller signal, with its reason, before the deadline', async () => {
    const parent = new AbortController();
    const signal = deadlineSignal(parent.signal, 60_000);
    const reason = new Error('closing');
    const others = Array.from({ length: 30 }, () => deadlineSignal(parent.signal, 60_000));
    expect(getEventListeners(parent.signal, 'abort')).toHaveLength(1);
    parent.abort(reason);
    expect(await aborted(signal, 100)).toBe(reason);
    for (const other of others) expect(other.reason).toBe(reason);
  });

  it('is aborted at once when the caller signal already is, and works without one', async () => {
    const parent = new AbortController();
    parent.abort(new Error('gone'));
    expect(deadlineSignal(parent.signal, 60_000).aborted).toBe(true);
    const alone = deadlineSignal(undefined, 20);
    gc();
    expect(((await aborted(alone, 2_000)) as DOMException).name).toBe('TimeoutError');
  });
});

describe('withDeadline', () => {
  it('drops the deadline when the call ends: no timer left to fire, and a later abort of the caller signal does not reach it', async () => {
    vi.useFakeTimers();
    try {
      const parent = new AbortController();
      let seen: AbortSignal | undefined;
      expect(await withDeadline(parent.signal, 2_000, async (s) => ((seen = s), 'answer'))).toBe('answer');
      await expect(withDeadline(parent.signal, 2_000, async () => Promise.reject(new Error('refused')))).rejects.toThrow('refused');
      expect(vi.getTimerCount()).toBe(0);
      parent.abort(new Error('closing'));
      vi.advanceTimersByTime(5_000);
      expect(seen?.aborted).toBe(false);
      // What it replaces on the hot path: a bare deadline signal keeps its timer until it fires.
      deadlineSignal(undefined, 2_000);
      expect(vi.getTimerCount()).toBe(1);
    } finally {
      vi.useRealTimers();
    }
  });

  it('releases only its own call: another call on the same caller signal still aborts with it', async () => {
    const parent = new AbortController();
    const hang = (s: AbortSignal) => new Promise((_, reject) => s.addEventListener('abort', () => reject(s.reason)));
    const pending = withDeadline(parent.signal, 60_000, hang).catch((e: unknown) => e);
    await withDeadline(parent.signal, 60_000, async () => 'done');
    const reason = new Error('closing');
    parent.abort(reason);
    expect(await pending).toBe(reason);
  });

  it('runs a call with an already aborted signal when the caller signal is, and a call that throws at once leaves nothing behind', async () => {
    const parent = new AbortController();
    parent.abort(new Error('gone'));
    expect(await withDeadline(parent.signal, 60_000, async (s) => s.aborted)).toBe(true);
    vi.useFakeTimers();
    try {
      const thrown = await withDeadline(undefined, 2_000, () => {
        throw new Error('bad input');
      }).catch((e: unknown) => e);
      expect((thrown as Error).message).toBe('bad input');
      expect(vi.getTimerCount()).toBe(0);
    } finally {
      vi.useRealTimers();
    }
  });

  it('aborts a call that outlives its deadline, and one whose caller signal aborts', async () => {
    const hang = (s: AbortSignal) => new Promise((_, reject) => s.addEventListener('abort', () => reject(s.reason)));
    const timedOut = await withDeadline(undefined, 20, hang).catch((e: unknown) => e);
    expect((timedOut as DOMException).name).toBe('TimeoutError');
    const parent = new AbortController();
    const call = withDeadline(parent.signal, 60_000, hang).catch((e: unknown) => e);
    const reason = new Error('closing');
    parent.abort(reason);
    expect(await call).toBe(reason);
  });
});

describe('call sites', () => {
  it('use deadlineSignal, not AbortSignal.timeout (which Node 20 may collect before it fires)', async () => {
    const { readdir, readFile } = await import('node:fs/promises');
    const { join } = await import('node:path');
    const offenders: string[] = [];
    for (const root of ['src', 'adapters']) {
      for (const entry of await readdir(root, { recursive: true })) {
        if (!entry.endsWith('.ts')) continue;
        const text = await readFile(join(root, entry), 'utf8');
        // Code only: the explanation in deadline.ts names what it replaces.
        const code = text.replace(/\/\*[\s\S]*?\*\/|\/\/.*$/gm, '');
        if (code.includes('AbortSignal.timeout(')) offenders.push(join(root, entry));
      }
    }
    expect(offenders).toEqual([]);
  });
});
