/** The failover log summariser, on a memory bus driven by fake timers: an outage yields a handful of lines, per-batch detail only at debug. */
import { pino } from 'pino';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { TransientError } from '../../src/errors/index.js';
import { attachFailoverLog } from '../../src/observability/log-summary.js';
import { memoryBus } from '../helpers/bus-parts.js';

interface Line {
  level: number;
  msg: string;
  [key: string]: unknown;
}

/** A pino logger at debug whose lines are kept, parsed. */
function capturingLogger() {
  const lines: Line[] = [];
  const logger = pino({ level: 'debug' }, { write: (s: string) => void lines.push(JSON.parse(s) as Line) });
  return { logger, lines };
}

const WARN = 40;
const INFO = 30;
const DEBUG = 20;

describe('failover log summary', () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it('10 s of failover at 300 sends/s gives a handful of warn/info lines; per-batch lines only at debug', async () => {
    const { logger, lines } = capturingLogger();
    const { bus, primary, secondary } = memoryBus({ logger, failback: { mode: 'immediate' }, breaker: { resetTimeoutMs: 1_000, slowFailureMs: 0 } });
    const summary = attachFailoverLog(bus.events, logger, { intervalMs: 60_000, spoolRecords: async () => (await bus.stats()).spool.records });
    primary.down(new TransientError('connect ECONNREFUSED'));
    let sent = 0;
    const pending: Promise<unknown>[] = [];
    for (let ms = 0; ms < 10_000; ms += 10) {
      for (let i = 0; i < 3; i++) pending.push(bus.send({ partitionKey: `k${sent % 8}`, data: { i: sent++ } }));
      await vi.advanceTimersByTimeAsync(10);
    }
    await Promise.all(pending);
    expect(secondary.stored).toHaveLength(3_000);
    primary.up();
    await vi.advanceTimersByTimeAsync(1_000);
    expect((await bus.stats()).breakers[0]?.state).toBe('closed');

    const loud = lines.filter((l) => l.level >= INFO);
    const perBatch = lines.filter((l) => l.msg === 'Records failed over to the next tier.');
    expect(perBatch.length).toBeGreaterThan(100);
    expect(perBatch.every((l) => l.level === DEBUG)).toBe(true);
    expect(loud.length).toBeLessThanOrEqual(6);
    // The first refused batch fails over before the breaker opens, so the episode starts with it.
    expect(loud.filter((l) => l.level >= WARN).map((l) => l.msg)).toEqual([
      'Failover started: records are going from mem:primary to mem:secondary; a summary follows at most every 60 s while it lasts.',
      'Breaker opened; writes for this target go to the next tier until a probe succeeds.',
      'Failover ended: 3000 records went to mem:secondary.',
    ]);
    summary.detach();
    await bus.close();
  });

  it('while failed over, summarises at most once per interval with the records per target since the last summary', async () => {
    const { logger, lines } = capturingLogger();
    const { bus, primary } = memoryBus({ logger: pino({ level: 'silent' }), failback: { mode: 'immediate' }, breaker: { resetTimeoutMs: 600_000, slowFailureMs: 0 } });
    const summary = attachFailoverLog(bus.events, logger, { intervalMs: 60_000 });
    primary.down(new TransientError('connect ECONNREFUSED'));
    for (let minute = 0; minute < 3; minute++) {
      for (let s = 0; s < 60; s++) {
        const sends = bus.sendBatch(Array.from({ length: 5 }, (_, i) => ({ partitionKey: 'k', data: { i } })));
        await vi.advanceTimersByTimeAsync(1_000);
        await sends;
      }
    }
    const stills = lines.filter((l) => l.msg.startsWith('Still failed over'));
    expect(stills).toHaveLength(3);
    expect(stills.map((l) => l.records)).toEqual([300, 300, 300]);
    expect(stills[0]?.byTarget).toEqual({ 'mem:secondary': 300 });
    expect(stills[0]?.openBreakers).toEqual(['mem:primary']);
    summary.detach();
    await bus.close();
  });

  it('says when the spool is engaged and released, and logs a drain that moved records', async () => {
    const { logger, lines } = capturingLogger();
    const { bus, primary, secondary } = memoryBus({ logger: pino({ level: 'silent' }), failback: { mode: 'immediate' }, breaker: { resetTimeoutMs: 100, slowFailureMs: 0 } });
    const summary = attachFailoverLog(bus.events, logger, { spoolRecords: async () => (await bus.stats()).spool.records });
    primary.down(new TransientError('down'));
    secondary.down(new TransientError('down'));
    const sends = bus.sendBatch(Array.from({ length: 20 }, (_, i) => ({ partitionKey: 'k', data: { i } })));
    await vi.advanceTimersByTimeAsync(50);
    await sends;
    primary.up();
    secondary.up();
    await vi.advanceTimersByTimeAsync(200);
    const drain = bus.reconcile();
    await vi.advanceTimersByTimeAsync(1_000);
    expect((await drain).written).toBe(20);
    await vi.advanceTimersByTimeAsync(10);
    const msgs = lines.filter((l) => l.level >= INFO).map((l) => l.msg);
    expect(msgs).toContain('Spool engaged: no remote tier took these records, so they are held on local disk until a drain.');
    expect(msgs).toContain('Drain completed.');
    expect(msgs).toContain('Spool released: every spooled record was drained.');
    expect(lines.find((l) => l.msg === 'Drain completed.')?.written).toBe(20);
    summary.detach();
    await bus.close();
  });
});
