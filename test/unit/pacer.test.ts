import { describe, expect, it } from 'vitest';
import { Pacer } from '../../src/reconciler/pacer.js';

/** A pacer on a virtual clock that only moves when the pacer sleeps. */
function virtualPacer(options: ConstructorParameters<typeof Pacer>[0]) {
  const clock = { now: 0 };
  const pacer = new Pacer({ ...options, now: () => clock.now, sleep: async (ms) => void (clock.now += ms) });
  return { pacer, clock };
}

describe('Pacer', () => {
  it('holds the average record rate to the ceiling', async () => {
    const { pacer, clock } = virtualPacer({ maxRecordsPerSecond: 1_000, maxBytesPerSecond: 1e12 });
    for (let i = 0; i < 20; i++) await pacer.take(500, 500);
    // 10,000 records at 1,000/s: the first 100 ride the burst, the rest take 9.9 s.
    expect(clock.now).toBeGreaterThanOrEqual(9_400);
    expect(clock.now).toBeLessThanOrEqual(10_000);
  });

  it('holds the byte rate too', async () => {
    const { pacer, clock } = virtualPacer({ maxRecordsPerSecond: 1e9, maxBytesPerSecond: 1_000_000 });
    for (let i = 0; i < 10; i++) await pacer.take(10, 500_000);
    expect(clock.now).toBeGreaterThanOrEqual(4_400);
    expect(clock.now).toBeLessThanOrEqual(5_000);
  });

  it('halves its rate on throttling and grows back while unthrottled', async () => {
    const { pacer } = virtualPacer({ maxRecordsPerSecond: 1_000 });
    pacer.slowDown();
    pacer.slowDown();
    expect(pacer.recordsPerSecond).toBe(250);
    for (let i = 0; i < 20; i++) pacer.slowDown();
    expect(pacer.recordsPerSecond).toBe(50);
    for (let i = 0; i < 20; i++) pacer.speedUp();
    expect(pacer.recordsPerSecond).toBe(1_000);
  });

  it('paces slower after slowing down', async () => {
    const fast = virtualPacer({ maxRecordsPerSecond: 1_000 });
    const slow = virtualPacer({ maxRecordsPerSecond: 1_000 });
    slow.pacer.slowDown();
    for (let i = 0; i < 10; i++) {
      await fast.pacer.take(100, 1);
      await slow.pacer.take(100, 1);
    }
    expect(slow.clock.now).toBeGreaterThan(fast.clock.now * 1.8);
  });
});
