/** Unit tests of the consumer's building blocks: per-key dispatch and contiguous checkpoints (no I/O). */
import { describe, expect, it } from 'vitest';
import { createDispatcher } from '../../src/consumer/dispatcher.js';
import { ShardProgress } from '../../src/consumer/shard-progress.js';

function deferred(): { promise: Promise<void>; resolve: () => void } {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
}

describe('dispatcher', () => {
  it('keeps order per key, runs keys concurrently up to the limit', async () => {
    const started: string[] = [];
    let running = 0;
    let peak = 0;
    const d = createDispatcher<{ key: string; n: number }>({
      concurrency: 3,
      maxInFlight: 1_000,
      keyOf: (i) => i.key,
      async process(i, release) {
        running++;
        peak = Math.max(peak, running);
        started.push(`${i.key}${i.n}`);
        await new Promise((r) => setTimeout(r, Math.random() * 3));
        running--;
        release();
      },
      onError: () => undefined,
    });
    for (let n = 0; n < 20; n++) for (const key of ['a', 'b', 'c', 'd', 'e']) await d.push({ key, n });
    await d.idle();
    expect(started).toHaveLength(100);
    for (const key of ['a', 'b', 'c', 'd', 'e']) {
      const order = started.filter((s) => s.startsWith(key)).map((s) => Number(s.slice(1)));
      expect(order).toEqual([...order].sort((x, y) => x - y));
    }
    expect(peak).toBe(3);
  });

  it('makes push wait when maxInFlight records are unfinished (backpressure)', async () => {
    const gates = Array.from({ length: 3 }, deferred);
    const d = createDispatcher<number>({ concurrency: 10, maxInFlight: 2, keyOf: String, process: (i, release) => gates[i]!.promise.then(release), onError: () => undefined });
    await d.push(0);
    await d.push(1);
    let third = false;
    const pushed = d.push(2).then(() => (third = true));
    await new Promise((r) => setImmediate(r));
    expect(third).toBe(false);
    expect(d.inFlight).toBe(2);
    gates[0]!.resolve();
    await pushed;
    expect(third).toBe(true);
    gates[1]!.resolve();
    gates[2]!.resolve();
    await d.idle();
  });
  it('works a process that finishes synchronously in a loop: per-key order, each record after the previous of its key', async () => {
    const started: string[] = [];
    const first = deferred();
    const d = createDispatcher<{ key: string; n: number }>({
      concurrency: 2,
      maxInFlight: 100_000,
      keyOf: (i) => i.key,
      process(i, release) {
        started.push(`${i.key}${i.n}`);
        release();
        if (i.n === 0) return first.promise; // holds key k0 while the rest queue up behind it
      },
      onError: () => undefined,
    });
    for (let n = 0; n < 30_000; n++) expect(d.offer({ key: n % 3 === 0 ? 'k0' : `k${n % 3}`, n })).toBe(true);
    expect(started.filter((s) => s.startsWith('k0'))).toEqual(['k00']);
    first.resolve(); // about 10,000 queued records of k0 now run synchronously one after another: a loop, not recursion
    await d.idle();
    expect(started).toHaveLength(30_000);
    for (const key of ['k0', 'k1', 'k2']) {
      const order = started.filter((s) => s.startsWith(key)).map((s) => Number(s.slice(2)));
      expect(order).toEqual([...order].sort((x, y) => x - y));
      expect(order).toHaveLength(10_000);
    }
  });

  it('moves a lane on when process returns, but counts the item in flight until it is released', async () => {
    const releases: Array<() => void> = [];
    const started: number[] = [];
    const d = createDispatcher<number>({
      concurrency: 4,
      maxInFlight: 2,
      keyOf: () => 'one key',
      process(i, release) {
        started.push(i);
        releases.push(release);
      },
      onError: () => undefined,
    });
    expect(d.offer(0)).toBe(true);
    expect(d.offer(1)).toBe(true);
    expect(started).toEqual([0, 1]); // the second of the key ran without waiting for the first's release
    expect(d.offer(2)).toBe(false); // no room: nothing accepted
    let third = false;
    const pushed = d.push(2).then(() => (third = true));
    await new Promise((r) => setImmediate(r));
    expect(third).toBe(false);
    releases[0]!();
    releases[0]!(); // a second call of the same release counts once
    await pushed;
    expect(d.inFlight).toBe(2);
    expect(started).toEqual([0, 1, 2]);
    releases[1]!();
    releases[2]!();
    await d.idle();
    expect(d.inFlight).toBe(0);
  });

  it('reports a throwing or rejecting process and releases its item', async () => {
    const errors: unknown[] = [];
    const d = createDispatcher<number>({
      concurrency: 1,
      maxInFlight: 10,
      keyOf: String,
      process(i) {
        if (i === 0) throw new Error('sync');
        return Promise.reject(new Error('async'));
      },
      onError: (e) => errors.push((e as Error).message),
    });
    d.offer(0);
    d.offer(1);
    await d.idle();
    expect(errors).toEqual(['sync', 'async']);
  });
});

describe('shard progress', () => {
  it('checkpoints only the contiguous finished prefix', async () => {
    const written: string[] = [];
    const p = new ShardProgress(async (s) => void written.push(s), () => undefined);
    p.track(['1', '2', '3', '4']);
    p.complete('2');
    p.complete('3');
    await p.flush();
    expect(written).toEqual([]);
    expect(p.position).toBeUndefined();
    p.complete('1');
    await p.flush();
    expect(written.at(-1)).toBe('3');
    p.complete('4');
    await p.idle();
    await p.flush();
    expect(written.at(-1)).toBe('4');
    expect(p.pending).toBe(0);
  });

  it('keeps the position after a failed write and writes it on the next flush', async () => {
    let fail = true;
    const written: string[] = [];
    const errors: unknown[] = [];
    const p = new ShardProgress(
      async (s) => {
        if (fail) throw new Error('disk full');
        written.push(s);
      },
      (e) => errors.push(e),
    );
    p.track(['7']);
    p.complete('7');
    await p.flush();
    expect(errors.length).toBeGreaterThan(0);
    expect(written).toEqual([]);
    fail = false;
    await p.flush();
    expect(written).toEqual(['7']);
  });
});
