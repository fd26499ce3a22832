/**
 * The reconciler's pace, end to end through a bus: the configured ceiling is
 * what the drain actually does (on a virtual clock, so the figure is exact
 * and load on the machine cannot blur it), throttling halves it, and the rate
 * grows back once the primary stops throttling.
 */
import { describe, expect, it } from 'vitest';
import { ThrottledError, TransientError } from '../../src/errors/index.js';
import { memoryBus, primaryClosed } from '../helpers/bus-parts.js';

/** A virtual clock for the pacer: time moves only when the pacer sleeps. */
function virtualTime() {
  const clock = { now: 0 };
  return { clock, now: () => clock.now, sleep: async (ms: number) => void (clock.now += ms) };
}

async function drainOf(records: number, maxRecordsPerSecond: number, throttleCalls: (call: number) => boolean = () => false) {
  const time = virtualTime();
  const { bus, primary, secondary } = memoryBus({
    failback: { mode: 'immediate' },
    breaker: { volumeThreshold: 2, resetTimeoutMs: 20 },
    reconciler: { enabled: false, maxRecordsPerSecond, maxBytesPerSecond: 1e12, uncertainSettleMs: 0, now: time.now, sleep: time.sleep },
  });
  primary.down(new TransientError('down'));
  secondary.down(new TransientError('down'));
  for (let i = 0; i < records; i += 500) await bus.sendBatch(Array.from({ length: Math.min(500, records - i) }, (_, j) => ({ partitionKey: `k${j % 7}`, data: i + j })));
  primary.up();
  await primaryClosed(bus);
  let drainCall = 0;
  primary.script = () => (throttleCalls(drainCall++) ? new ThrottledError('ProvisionedThroughputExceededException') : 'ok');
  const summary = await bus.reconcile();
  await bus.close();
  return { summary, seconds: time.clock.now / 1000, stored: primary.stored.length };
}

describe('drain pacing', () => {
  it('holds the drain to within 10% of maxRecordsPerSecond', async () => {
    const { summary, seconds, stored } = await drainOf(6_000, 2_000);
    expect(summary.error).toBeUndefined();
    expect(stored).toBe(6_000);
    const rate = 6_000 / seconds;
    expect(rate).toBeGreaterThan(2_000 * 0.9);
    expect(rate).toBeLessThan(2_000 * 1.1);
  });

  it('halves the rate when the primary throttles, then grows it back', async () => {
    const plain = await drainOf(6_000, 2_000);
    // The first two calls of the drain are throttled; then the primary takes everything.
    const throttled = await drainOf(6_000, 2_000, (call) => call < 2);
    expect(throttled.stored).toBe(6_000);
    expect(throttled.seconds).toBeGreaterThan(plain.seconds * 1.2);
    // It recovers: at the halved rate all the way, 6,000 records would take 6 s.
    expect(throttled.seconds).toBeLessThan(6);
  });
});
