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
      async process(i) {
        running++;
        peak = Math.max(peak, running);
        started.push(`${i.key}${i.n}`);
        await new Promise((r) => setTimeout(r, Math.random() * 3));
        running--;
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
    const d = createDispatcher<number>({ concurrency: 10, maxInFlight: 2, keyOf: String, process: (i) => gates[i]!.promise, onError: () => undefined });
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
