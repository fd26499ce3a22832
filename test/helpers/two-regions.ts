/**
 * Two Kinesis emulators standing for two regions, each behind a fault proxy,
 * and a bus over them with a disk spool in a fresh temp dir.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { KinesisClient } from '@aws-sdk/client-kinesis';
import { afterAll, beforeAll } from 'vitest';
import type { Bus } from '../../src/bus/bus.js';
import { createBus } from '../../src/bus/create-bus.js';
import type { BusConfigInput } from '../../src/config/schema.js';
import { type FaultProxy, startFaultProxy } from '../../src/drill/fault-proxy.js';
import { createKinesisClientFor, ensureStream, FAKE_CREDENTIALS, readAllRecords } from '../../src/drill/kinesis-admin.js';
import type { KinesisEngine } from '../../src/drill/emulators.js';
import { decodeEnvelope, type Envelope } from '../../src/envelope/index.js';
import { silentLogger } from './bus-parts.js';
import { type KinesisEmulatorFixture, uniqueName, useKinesisEmulator, waitFor } from './emulators.js';

export interface Region {
  name: string;
  fixture: KinesisEmulatorFixture;
  proxy: FaultProxy;
  /** A client straight to the emulator, signing for this region (kinesis-local keeps streams per region). */
  admin: KinesisClient;
}

export interface TwoRegions {
  east: Region;
  west: Region;
  /** A bus on a fresh stream pair and spool dir; closed and removed after the file. */
  bus(overrides?: Partial<BusConfigInput>, shards?: number): Promise<{ bus: Bus; stream: string; spoolDir: string }>;
  /** Every envelope in a region's stream, read straight from its emulator. */
  read(region: Region, stream: string): Promise<Envelope[]>;
  /** Reconcile until the spool is empty and a drain writes nothing more. */
  drain(bus: Bus, timeoutMs?: number): Promise<void>;
}

export function useTwoRegions(engine: KinesisEngine = 'kinesalite'): TwoRegions {
  const eastFixture = useKinesisEmulator(engine);
  const westFixture = useKinesisEmulator(engine);
  const regions: Partial<{ east: Region; west: Region }> = {};
  const cleanup: Array<() => Promise<unknown>> = [];
  beforeAll(async () => {
    const start = async (name: string, fixture: KinesisEmulatorFixture): Promise<Region> => ({
      name,
      fixture,
      proxy: await startFaultProxy({ target: fixture.endpoint }),
      admin: createKinesisClientFor(fixture.endpoint, name),
    });
    regions.east = await start('us-east-1', eastFixture);
    regions.west = await start('us-west-2', westFixture);
  });
  afterAll(async () => {
    for (const step of cleanup.reverse()) await step().catch(() => undefined);
    for (const r of [regions.east, regions.west]) {
      await r?.proxy.close();
      r?.admin.destroy();
    }
  });
  const region = (r: Region | undefined): Region => {
    if (!r) throw new Error('regions are not started (used outside a test?)');
    return r;
  };
  return {
    get east() {
      return region(regions.east);
    },
    get west() {
      return region(regions.west);
    },
    async bus(overrides = {}, shards = 2) {
      const east = region(regions.east);
      const west = region(regions.west);
      east.proxy.setFault({ mode: 'none' });
      west.proxy.setFault({ mode: 'none' });
      const stream = uniqueName();
      await Promise.all([ensureStream(east.admin, stream, shards), ensureStream(west.admin, stream, shards)]);
      const spoolDir = await mkdtemp(join(tmpdir(), 'spillway-test-'));
      cleanup.push(() => rm(spoolDir, { recursive: true, force: true }));
      const bus = await createBus(
        {
          primary: { kind: 'kinesis', region: east.name, stream, endpoint: east.proxy.url, credentials: FAKE_CREDENTIALS, requestTimeoutMs: 1_000 },
          secondaries: [{ kind: 'kinesis', region: west.name, stream, endpoint: west.proxy.url, credentials: FAKE_CREDENTIALS, requestTimeoutMs: 1_000 }],
          spool: { kind: 'disk', dir: spoolDir },
          breaker: { resetTimeoutMs: 300, volumeThreshold: 2 },
          delivery: { throttleBudgetMs: 10_000 },
          reconciler: { enabled: true, intervalMs: 60_000, maxRecordsPerSecond: 100_000, maxBytesPerSecond: 1e9, uncertainSettleMs: 500 },
          ...overrides,
        },
        { logger: silentLogger },
      );
      cleanup.push(() => bus.close());
      return { bus, stream, spoolDir };
    },
    async read(r, stream) {
      const records = await readAllRecords(r.admin, stream, { timeoutMs: 60_000 });
      return records.map((rec) => decodeEnvelope(rec.data));
    },
    async drain(bus, timeoutMs = 60_000) {
      await waitFor(
        async () => {
          const stats = await bus.stats();
          if (stats.breakers.find((b) => b.tier === 'primary')?.state !== 'closed') return false;
          await bus.reconcile(); // may join a run that began before the last records landed
          const summary = await bus.reconcile(); // so judge only a run started after it
          return !summary.error && summary.written === 0 && (await bus.stats()).spool.records === 0;
        },
        { timeoutMs, intervalMs: 50, message: 'the reconciler to drain spool and secondary' },
      );
    },
  };
}

/** Count how often each id occurs. */
export function idCounts(envelopes: readonly Envelope[]): Map<string, number> {
  const counts = new Map<string, number>();
  for (const e of envelopes) counts.set(e.id, (counts.get(e.id) ?? 0) + 1);
  return counts;
}
