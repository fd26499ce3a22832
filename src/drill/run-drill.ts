/**
 * The region-outage drill on embedded emulators: two Kinesis emulators stand
 * for two regions, each behind a fault proxy. A steady load runs while the
 * primary is cut off, then the secondary too, then both come back; the drill
 * waits for the reconciler and reads the primary stream back to prove that
 * nothing acknowledged was lost.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from 'pino';
import type { Bus } from '../bus/bus.js';
import { createBus } from '../bus/create-bus.js';
import { decodeEnvelope, isEnvelopeBytes } from '../envelope/index.js';
import type { ReconcileSummary } from '../events/bus-events.js';
import { type KinesisEmulator, type KinesisEngine, startKinesisEmulator } from './emulators.js';
import { type Fault, type FaultProxy, startFaultProxy } from './fault-proxy.js';
import { createKinesisClientFor, ensureStream, FAKE_CREDENTIALS, readAllRecords } from './kinesis-admin.js';
import { SteadyLoad } from './load.js';
import { type DrillCounts, verifyDrill } from './verify.js';

/** Drill knobs; the CLI fills them in. */
export interface DrillOptions {
  engine: KinesisEngine;
  /** Records per second sent throughout. */
  rate: number;
  /** Length of each phase, in ms. */
  phaseMs: number;
  shards: number;
  /** Reconciler ceiling, records per second. */
  paceRecordsPerSecond: number;
  /** Give up waiting for the drain after this long, in ms. */
  recoveryTimeoutMs: number;
  logger: Logger;
  /** Progress lines for a person watching. */
  onProgress?: (line: string) => void;
}

/** One phase of the outage. */
export interface Phase {
  name: string;
  primary: Fault;
  secondary: Fault;
}

/** Per-phase counts. */
export interface PhaseReport {
  name: string;
  sent: number;
  primary: number;
  secondary: number;
  spool: number;
  rejected: number;
  p50Ms: number;
  p99Ms: number;
}

/** A moment worth showing, in ms since the drill's load began. */
export interface TimelineEvent {
  atMs: number;
  what: string;
}

/** Everything a report needs. */
export interface DrillResult {
  engine: KinesisEngine;
  counts: DrillCounts;
  phases: PhaseReport[];
  timeline: TimelineEvent[];
  drains: ReconcileSummary[];
  /** From both regions coming back until the last drain that wrote anything finished. */
  recoveryMs: number;
  totalMs: number;
  passed: boolean;
}

/** The default scenario: primary down, then both regions down, then both back. */
export const REGION_OUTAGE: readonly Phase[] = [
  { name: 'steady', primary: { mode: 'none' }, secondary: { mode: 'none' } },
  { name: 'primary-down', primary: { mode: 'refuse' }, secondary: { mode: 'none' } },
  { name: 'both-down', primary: { mode: 'refuse' }, secondary: { mode: 'refuse' } },
  { name: 'recovered', primary: { mode: 'none' }, secondary: { mode: 'none' } },
];

/** Run the region-outage drill; resources are always released. */
export async function runDrill(options: DrillOptions): Promise<DrillResult> {
  const cleanup: Array<() => Promise<unknown>> = [];
  const say = options.onProgress ?? (() => undefined);
  try {
    say(`Starting two ${options.engine} emulators (us-east-1, us-west-2) behind fault proxies.`);
    const regions = await Promise.all(['us-east-1', 'us-west-2'].map((region) => startRegion(options, region, cleanup)));
    const [east, west] = regions as [Region, Region];
    const stream = `spillway-drill-${Date.now().toString(36)}`;
    await Promise.all(regions.map((r) => ensureStream(r.admin, stream, options.shards)));
    const spoolDir = await mkdtemp(join(tmpdir(), 'spillway-drill-'));
    cleanup.push(() => rm(spoolDir, { recursive: true, force: true }));
    const bus = await createBus(
      {
        primary: { kind: 'kinesis', region: 'us-east-1', stream, endpoint: east.proxy.url, credentials: FAKE_CREDENTIALS, requestTimeoutMs: 1_000 },
        secondaries: [{ kind: 'kinesis', region: 'us-west-2', stream, endpoint: west.proxy.url, credentials: FAKE_CREDENTIALS, requestTimeoutMs: 1_000 }],
        spool: { kind: 'disk', dir: spoolDir },
        breaker: { resetTimeoutMs: 1_000, volumeThreshold: 2 },
        reconciler: { enabled: true, intervalMs: 2_000, maxRecordsPerSecond: options.paceRecordsPerSecond, maxBytesPerSecond: 50 * 1_048_576, uncertainSettleMs: 1_500 },
      },
      { logger: options.logger },
    );
    cleanup.unshift(() => bus.close());
    const started = performance.now();
    const timeline: TimelineEvent[] = [];
    const at = (what: string): void => void timeline.push({ atMs: Math.round(performance.now() - started), what });
    const drains: ReconcileSummary[] = [];
    bus.events.on('reconciler.done', (s) => drains.push(s));
    let lastDrainAt = started;
    watch(bus, at, () => {
      lastDrainAt = performance.now();
    });
    const load = new SteadyLoad(bus, { rate: options.rate, snapshotEvery: 10, snapshotKeys: 20, partitionKeys: 64 });
    let lastPhaseStart = started;
    for (const phase of REGION_OUTAGE) {
      east.proxy.setFault(phase.primary);
      west.proxy.setFault(phase.secondary);
      lastPhaseStart = performance.now();
      at(`phase ${phase.name}: primary ${describeFault(phase.primary)}, secondary ${describeFault(phase.secondary)}`);
      say(`Phase ${phase.name}: primary ${describeFault(phase.primary)}, secondary ${describeFault(phase.secondary)}.`);
      await load.run(phase.name, options.phaseMs);
    }
    await load.settle();
    say('Load done; waiting for the primary breaker to close and the reconciler to drain.');
    await awaitRecovery(bus, options.recoveryTimeoutMs);
    at('spool empty and secondary drained');
    const recoveryMs = Math.max(0, Math.round(lastDrainAt - lastPhaseStart));
    const primary = (await readAllRecords(east.admin, stream, { timeoutMs: 60_000 })).filter((r) => isEnvelopeBytes(r.data)).map((r) => decodeEnvelope(r.data));
    const counts = verifyDrill(load.sent, primary);
    const result: DrillResult = {
      engine: options.engine,
      counts,
      phases: REGION_OUTAGE.map((p) => phaseReport(p.name, load.sent)),
      timeline,
      drains,
      recoveryMs,
      totalMs: Math.round(performance.now() - started),
      passed: counts.lost === 0 && counts.unexpected === 0,
    };
    return result;
  } finally {
    for (const step of cleanup) await step().catch(() => undefined);
  }
}

interface Region {
  emulator: KinesisEmulator;
  proxy: FaultProxy;
  admin: ReturnType<typeof createKinesisClientFor>;
}

async function startRegion(options: DrillOptions, region: string, cleanup: Array<() => Promise<unknown>>): Promise<Region> {
  const emulator = await startKinesisEmulator({ engine: options.engine });
  cleanup.push(() => emulator.stop());
  const proxy = await startFaultProxy({ target: emulator.endpoint });
  cleanup.unshift(() => proxy.close());
  const admin = createKinesisClientFor(emulator.endpoint, region);
  cleanup.push(async () => admin.destroy());
  return { emulator, proxy, admin };
}

/** Puts breaker changes and drains on the timeline; repeated failed probes are folded into one line. */
function watch(bus: Bus, at: (what: string) => void, drained: () => void): void {
  const failedProbes = new Map<string, number>();
  const probing = new Set<string>();
  bus.events.on('breaker.open', (e) => {
    if (probing.delete(e.target)) failedProbes.set(e.target, (failedProbes.get(e.target) ?? 0) + 1);
    else at(`breaker open: ${e.target}`);
  });
  bus.events.on('breaker.halfOpen', (e) => void probing.add(e.target));
  bus.events.on('breaker.close', (e) => {
    probing.delete(e.target);
    const failed = failedProbes.get(e.target) ?? 0;
    failedProbes.delete(e.target);
    at(`breaker closed: ${e.target} (probe succeeded${failed > 0 ? ` after ${failed} failed probe${failed > 1 ? 's' : ''}` : ''})`);
  });
  bus.events.on('reconciler.done', (s) => {
    if (s.written > 0) drained();
    if (s.written + s.skippedDuplicates + s.coalesced + s.settled > 0 || s.error) {
      const settled = s.settled > 0 ? `, ${s.settled} timed-out writes found already in the primary` : '';
      at(`drain: ${s.written} written, ${s.skippedDuplicates} duplicates skipped, ${s.coalesced} snapshots coalesced${settled} in ${s.durationMs} ms${s.error ? ` (stopped: ${s.error.split('\n')[0]})` : ''}`);
    }
  });
}

async function awaitRecovery(bus: Bus, timeoutMs: number): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (performance.now() < deadline) {
    const stats = await bus.stats();
    const primaryClosed = stats.breakers.find((b) => b.tier === 'primary')?.state === 'closed';
    if (primaryClosed) {
      // reconcile() joins a run already going, which may have read its sources before the last records landed;
      // only a run started after it proves the backlog is gone.
      await bus.reconcile();
      const summary = await bus.reconcile();
      const after = await bus.stats();
      if (!summary.error && summary.unavailable.length === 0 && after.spool.records === 0 && summary.written === 0) return;
    } else {
      await sleep(100);
    }
  }
  throw new Error(`the reconciler did not finish draining within ${timeoutMs} ms`);
}

function phaseReport(name: string, sent: ReturnType<SteadyLoad['sent']['slice']>): PhaseReport {
  const mine = sent.filter((s) => s.phase === name);
  const latencies = mine.map((s) => s.latencyMs ?? 0).sort((a, b) => a - b);
  const q = (p: number): number => Math.round(latencies[Math.min(latencies.length - 1, Math.floor(p * latencies.length))] ?? 0);
  return {
    name,
    sent: mine.length,
    primary: mine.filter((s) => s.landedOn === 'primary').length,
    secondary: mine.filter((s) => s.landedOn === 'secondary').length,
    spool: mine.filter((s) => s.landedOn === 'spool').length,
    rejected: mine.filter((s) => s.error !== undefined).length,
    p50Ms: q(0.5),
    p99Ms: q(0.99),
  };
}

function describeFault(fault: Fault): string {
  return fault.mode === 'none' ? 'healthy' : fault.mode === 'refuse' ? 'refusing connections' : fault.mode;
}
