/**
 * Several producers (own spool dirs, own instance ids) sharing one primary and
 * one secondary stream, against real Kinesis emulators behind fault proxies:
 * each reconciler drains only its own records from the shared secondary, so
 * every id reaches the primary exactly once.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { Bus } from '../../src/bus/bus.js';
import { createBus } from '../../src/bus/create-bus.js';
import { ensureStream, FAKE_CREDENTIALS } from '../../src/drill/kinesis-admin.js';
import type { ReconcileSummary } from '../../src/events/bus-events.js';
import { silentLogger } from '../helpers/bus-parts.js';
import { uniqueName, waitFor } from '../helpers/emulators.js';
import { idCounts, useTwoRegions } from '../helpers/two-regions.js';

const regions = useTwoRegions('kinesalite');
const cleanup: Array<() => Promise<unknown>> = [];
afterAll(async () => {
  for (const step of cleanup.reverse()) await step().catch(() => undefined);
});

async function producers(count: number, stream: string): Promise<Bus[]> {
  const buses: Bus[] = [];
  for (let i = 0; i < count; i++) {
    const dir = await mkdtemp(join(tmpdir(), `spillway-producer-${i}-`));
    cleanup.push(() => rm(dir, { recursive: true, force: true }));
    const bus = await createBus(
      {
        primary: { kind: 'kinesis', region: regions.east.name, stream, endpoint: regions.east.proxy.url, credentials: FAKE_CREDENTIALS, requestTimeoutMs: 1_000 },
        secondaries: [{ kind: 'kinesis', region: regions.west.name, stream, endpoint: regions.west.proxy.url, credentials: FAKE_CREDENTIALS, requestTimeoutMs: 1_000 }],
        spool: { kind: 'disk', dir },
        breaker: { resetTimeoutMs: 300, volumeThreshold: 2 },
        reconciler: { enabled: false, maxRecordsPerSecond: 100_000, maxBytesPerSecond: 1e9, uncertainSettleMs: 0 },
      },
      { logger: silentLogger },
    );
    cleanup.push(() => bus.close());
    buses.push(bus);
  }
  return buses;
}

describe('producers sharing one fallback', () => {
  for (const count of [2, 4]) {
    it(`${count} producers: every id written during an outage reaches the primary exactly once`, async () => {
      const stream = uniqueName();
      await Promise.all([ensureStream(regions.east.admin, stream, 2), ensureStream(regions.west.admin, stream, 2)]);
      const buses = await producers(count, stream);
      regions.east.proxy.setFault({ mode: 'refuse' });
      const sent: string[] = [];
      for (const [p, bus] of buses.entries()) {
        const results = await bus.sendBatch(Array.from({ length: 100 }, (_, i) => ({ partitionKey: `p${p}-k${i % 9}`, data: { p, i } })));
        expect(results.every((r) => r.ok && r.landedOn.tier === 'secondary')).toBe(true);
        sent.push(...results.map((r) => (r.ok ? r.id : '')));
      }
      regions.east.proxy.setFault({ mode: 'none' });
      const summaries: ReconcileSummary[] = [];
      await waitFor(
        async () => {
          const runs = await Promise.all(buses.map((b) => b.reconcile()));
          summaries.push(...runs);
          return runs.every((s) => !s.error && s.written === 0 && s.unavailable.length === 0);
        },
        { timeoutMs: 60_000, intervalMs: 100, message: 'every producer to drain its own records' },
      );
      const counts = idCounts(await regions.read(regions.east, stream));
      expect(counts.size).toBe(100 * count);
      expect(sent.filter((id) => counts.get(id) !== 1)).toEqual([]);
      // Each reconciler saw the others' records on the shared stream and left them alone.
      expect(summaries.reduce((n, s) => n + s.otherProducers, 0)).toBeGreaterThanOrEqual(100 * count * (count - 1));
    }, 120_000);
  }
});
