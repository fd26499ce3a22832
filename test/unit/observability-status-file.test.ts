/** The status-file writer on a memory bus, writing real files in a temp dir. */
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { TransientError } from '../../src/errors/index.js';
import { attachStatusFile, type StatusSnapshot } from '../../src/observability/status-file.js';
import { memoryBus, primaryClosed } from '../helpers/bus-parts.js';
import { waitFor } from '../helpers/emulators.js';

const cleanups: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function setup() {
  const dir = await mkdtemp(join(tmpdir(), 'spillway-status-'));
  cleanups.push(() => rm(dir, { recursive: true, force: true }));
  const parts = memoryBus({ failback: { mode: 'immediate' }, breaker: { volumeThreshold: 2, resetTimeoutMs: 50, slowFailureMs: 0 } });
  cleanups.push(() => parts.bus.close());
  const path = join(dir, 'status.json');
  let clock = Date.parse('2026-01-01T00:00:00Z');
  const status = attachStatusFile({ path, events: parts.bus.events, stats: () => parts.bus.stats(), intervalMs: 60_000, now: () => clock });
  cleanups.push(() => status.close());
  const read = async () => JSON.parse(await readFile(path, 'utf8')) as StatusSnapshot;
  return { ...parts, dir, status, read, tick: (ms: number) => (clock += ms) };
}

const batch = (n: number) => Array.from({ length: n }, (_, i) => ({ partitionKey: `k${i}`, data: { i } }));

describe('status file', () => {
  it('records breaker changes with their times, the last failover and failback, and records per fallback target', async () => {
    const { bus, primary, status, read, tick } = await setup();
    await status.flush();
    const first = await read();
    expect(first.breakers.filter((b) => b.tier !== 'spool').map((b) => [b.target, b.state])).toEqual([
      ['mem:primary', 'closed'],
      ['mem:secondary', 'closed'],
    ]);
    expect(first.pid).toBe(process.pid);
    primary.down(new TransientError('refused'));
    tick(1_000);
    for (let i = 0; i < 3; i++) await bus.sendBatch(batch(5));
    await status.flush();
    const open = await read();
    expect(open.breakers[0]).toMatchObject({ target: 'mem:primary', state: 'open', since: '2026-01-01T00:00:01.000Z' });
    expect(open.lastFailover).toMatchObject({ from: 'mem:primary', to: 'mem:secondary', reason: expect.stringMatching(/breaker: it is open/) });
    expect(open.fallbackRecords).toEqual({ 'mem:secondary': 15 });
    expect(open.lastFailback).toBeUndefined();
    primary.up();
    tick(2_000);
    await primaryClosed(bus);
    await status.flush();
    expect((await read()).lastFailback).toEqual({ at: '2026-01-01T00:00:03.000Z', target: 'mem:primary' });
  });

  it('gives the spool depth and when its oldest record came, cleared once drained; the last drain is kept', async () => {
    const { bus, primary, secondary, status, read, tick } = await setup();
    primary.down(new TransientError('down'));
    secondary.down(new TransientError('down'));
    tick(5_000);
    await bus.sendBatch(batch(4));
    await status.flush();
    expect((await read()).spool).toMatchObject({ records: 4, oldestRecordAt: '2026-01-01T00:00:05.000Z' });
    primary.up();
    secondary.up();
    await primaryClosed(bus);
    await bus.reconcile();
    await status.flush();
    const after = await read();
    expect(after.spool).toEqual({ records: 0, bytes: 0 });
    expect(after.lastDrain).toMatchObject({ written: 4 });
  });

  it('writes atomically: many concurrent writes leave one whole file and no temp files', async () => {
    const { dir, status, read } = await setup();
    await Promise.all(Array.from({ length: 30 }, () => status.flush()));
    await waitFor(async () => (await readdir(dir)).length === 1, { timeoutMs: 2_000, message: 'temp files to be gone' });
    expect(await readdir(dir)).toEqual(['status.json']);
    expect((await read()).format).toBe(1);
  });
});
