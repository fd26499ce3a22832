/**
 * Write RTO and worst send latency through primary faults, against the bus's
 * own steady state in the same run: two kinesalite emulators (primary,
 * secondary), each behind a fault proxy (pass-through unless told otherwise,
 * so both paths have the same hop).
 *
 * Open-loop load (sends are started on a timer, not awaited one by one, as a
 * service's request handlers would). Each round, for each fault: a steady
 * phase with the primary healthy, then the fault on the primary's proxy for a
 * phase, then the fault is lifted and the round waits for the breaker to
 * close. Faults: `refuse` (connections refused), `hang` (accepted, never
 * answered), `slow` (answered after 1.5 s, past the 1 s request timeout) and
 * `slow-ok` (answered after 300 ms, under it: no failover expected).
 *
 * Write RTO: from the fault to the first acknowledgement on another tier.
 * Worst: the longest single send during the fault phase. Afterwards both
 * streams are read back: every acknowledgement must be in the stream it named.
 *
 *   npx tsx bench/failover-latency.ts
 *   BENCH_RATE=300 BENCH_ROUNDS=2 BENCH_PHASE_MS=3000 BENCH_SHARDS=4 BENCH_PAYLOAD_BYTES=200
 */
import type { Bus } from '../src/bus/bus.js';
import { createBus } from '../src/bus/create-bus.js';
import { startKinesisEmulator } from '../src/drill/emulators.js';
import { type Fault, type FaultProxy, startFaultProxy } from '../src/drill/fault-proxy.js';
import { createKinesisClientFor, ensureStream, FAKE_CREDENTIALS, readAllRecords } from '../src/drill/kinesis-admin.js';
import { decodeEnvelope } from '../src/envelope/index.js';
import type { TierName } from '../src/events/bus-events.js';
import { envInt, fmt, jsonPayload, latencySummary, makeTempDir, median, quietLogger, ratio, removeTempDir, runIfMain, table, timeLimitMs, watchdog } from './lib.js';

/** Sizes for one run; each defaults from the environment. */
export interface FailoverLatencyOptions {
  /** Sends started per second. */
  rate: number;
  rounds: number;
  /** Length of the steady and the fault phase, in ms. */
  phaseMs: number;
  shards: number;
  payloadBytes: number;
}

/** Options from BENCH_* environment variables. */
export function optionsFromEnv(): FailoverLatencyOptions {
  return {
    rate: envInt('BENCH_RATE', 300),
    rounds: envInt('BENCH_ROUNDS', 2),
    phaseMs: envInt('BENCH_PHASE_MS', 3_000),
    shards: envInt('BENCH_SHARDS', 4),
    payloadBytes: envInt('BENCH_PAYLOAD_BYTES', 200),
  };
}

const REQUEST_TIMEOUT_MS = 1_000;
const RESET_TIMEOUT_MS = 1_000;
const FAULTS: ReadonlyArray<{ name: string; fault: Fault; failsOver: boolean }> = [
  { name: 'refuse', fault: { mode: 'refuse' }, failsOver: true },
  { name: 'hang', fault: { mode: 'hang' }, failsOver: true },
  { name: 'slow (1.5 s > timeout)', fault: { mode: 'delay', ms: 1_500 }, failsOver: true },
  { name: 'slow-ok (300 ms < timeout)', fault: { mode: 'delay', ms: 300 }, failsOver: false },
];

interface Sample {
  at: number;
  ms: number;
  tier: TierName | 'failed';
  id?: string;
}

/** Sends at `rate`/s for `ms`, open loop; resolves when every send has settled. */
async function load(bus: Bus, rate: number, ms: number, payloadBytes: number, serial: { n: number }): Promise<Sample[]> {
  const samples: Sample[] = [];
  const pending: Promise<void>[] = [];
  const started = performance.now();
  let sent = 0;
  while (performance.now() - started < ms) {
    const due = Math.floor(((performance.now() - started) / 1000) * rate);
    for (; sent < due; sent += 1) {
      const i = serial.n++;
      const at = performance.now();
      pending.push(
        bus.send({ partitionKey: `key-${i % 64}`, data: jsonPayload(i, payloadBytes) }).then(
          (r) => void samples.push({ at, ms: performance.now() - at, tier: r.landedOn.tier, id: r.id }),
          () => void samples.push({ at, ms: performance.now() - at, tier: 'failed' }),
        ),
      );
    }
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  await Promise.all(pending);
  return samples;
}

async function waitUntil(what: string, ok: () => boolean, timeoutMs: number): Promise<void> {
  const started = performance.now();
  while (!ok()) {
    if (performance.now() - started > timeoutMs) throw new Error(`failover-latency: ${what} did not happen within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

interface FaultResult {
  rto: number[];
  worst: number[];
  fault: Sample[];
}

interface Rig {
  bus: Bus;
  primaryProxy: FaultProxy;
  primaryState: () => string;
  /** Ids in the primary and the secondary stream. */
  streamIds: () => Promise<[Set<string>, Set<string>]>;
}

/** Two emulators behind fault proxies, a stream on each, and a bus over them; teardown steps go on `cleanup`. */
async function startRig(shards: number, cleanup: Array<() => Promise<unknown>>): Promise<Rig> {
  const emulators = await Promise.all([startKinesisEmulator(), startKinesisEmulator()]);
  for (const e of emulators) cleanup.unshift(() => e.stop());
  const [east, west] = emulators;
  const proxies: [FaultProxy, FaultProxy] = [await startFaultProxy({ target: east.endpoint }), await startFaultProxy({ target: west.endpoint })];
  for (const p of proxies) cleanup.unshift(() => p.close());
  const admins = [createKinesisClientFor(east.endpoint, 'us-east-1'), createKinesisClientFor(west.endpoint, 'us-west-2')] as const;
  for (const a of admins) cleanup.unshift(async () => a.destroy());
  const stream = `bench-failover-${Date.now().toString(36)}`;
  await Promise.all(admins.map((a) => ensureStream(a, stream, shards)));
  const spoolDir = await makeTempDir('spillway-bench-failover-');
  cleanup.push(() => removeTempDir(spoolDir));
  const target = (region: string, endpoint: string) => ({ kind: 'kinesis' as const, region, stream, endpoint, credentials: FAKE_CREDENTIALS, requestTimeoutMs: REQUEST_TIMEOUT_MS });
  const bus = await createBus(
    {
      primary: target('us-east-1', proxies[0].url),
      secondaries: [target('us-west-2', proxies[1].url)],
      spool: { kind: 'disk', dir: spoolDir },
      breaker: { resetTimeoutMs: RESET_TIMEOUT_MS },
      // This measures failing over and coming back, so writes return as soon as the primary answers (no drain runs here).
      failback: { mode: 'immediate' },
      reconciler: { enabled: false },
    },
    { logger: quietLogger },
  );
  cleanup.unshift(() => bus.close());
  let primaryState = 'closed';
  for (const state of ['open', 'halfOpen', 'close'] as const) bus.events.on(`breaker.${state}`, (e) => e.tier === 'primary' && (primaryState = state === 'close' ? 'closed' : state));
  const ids = async (i: 0 | 1) => new Set((await readAllRecords(admins[i], stream, { timeoutMs: 60_000 })).map((rec) => decodeEnvelope(rec.data).id));
  return { bus, primaryProxy: proxies[0], primaryState: () => primaryState, streamIds: async () => Promise.all([ids(0), ids(1)]) };
}

/** Every round: per fault, a steady phase, then the fault for a phase, then recovery. */
async function runRounds(rig: Rig, options: FailoverLatencyOptions): Promise<{ steady: Sample[]; results: Map<string, FaultResult> }> {
  const { rate, rounds, phaseMs, payloadBytes } = options;
  const serial = { n: 0 };
  const steady: Sample[] = [];
  const results = new Map<string, FaultResult>(FAULTS.map((f) => [f.name, { rto: [], worst: [], fault: [] }]));
  await load(rig.bus, rate, 500, payloadBytes, serial); // warm-up, not counted
  for (let round = 0; round < rounds; round += 1) {
    for (const f of FAULTS) {
      steady.push(...(await load(rig.bus, rate, phaseMs, payloadBytes, serial)));
      const cut = performance.now();
      rig.primaryProxy.setFault(f.fault);
      const faulted = await load(rig.bus, rate, phaseMs, payloadBytes, serial);
      rig.primaryProxy.setFault({ mode: 'none' });
      await waitUntil('the primary breaker closing', () => rig.primaryState() === 'closed', 20 * RESET_TIMEOUT_MS);
      const r = results.get(f.name) as FaultResult;
      const elsewhere = faulted.filter((x) => x.tier !== 'primary' && x.tier !== 'failed').map((x) => x.at + x.ms - cut);
      r.rto.push(elsewhere.length > 0 ? Math.min(...elsewhere) : Number.NaN);
      r.worst.push(Math.max(...faulted.map((x) => x.ms)));
      r.fault.push(...faulted);
    }
  }
  return { steady, results };
}

/** The results table: one row per fault against the steady baseline. */
function resultTable(steady: Sample[], results: Map<string, FaultResult>, rounds: number): string {
  const base = latencySummary(steady.map((x) => x.ms));
  const rows = [['steady: primary healthy (baseline)', fmt(base.n), 'n/a', fmt(Math.max(...steady.map((x) => x.ms)), 0), fmt(base.p50, 1), fmt(base.p99, 1), '1.00x', '', '']];
  for (const f of FAULTS) {
    const r = results.get(f.name) as FaultResult;
    const s = latencySummary(r.fault.map((x) => x.ms));
    const landed = { primary: 0, secondary: 0, spool: 0, failed: 0 };
    for (const x of r.fault) landed[x.tier] += 1;
    rows.push([f.name, fmt(s.n), f.failsOver ? fmt(median(r.rto), 0) : 'none expected', fmt(Math.max(...r.worst), 0), fmt(s.p50, 1), fmt(s.p99, 1), ratio(s.p50, base.p50), `${landed.primary}/${landed.secondary}/${landed.spool}`, `${REQUEST_TIMEOUT_MS + 250}`]);
  }
  return table(
    `Write RTO and send latency per primary fault (ms; ${rounds} rounds; RTO = median over rounds, worst = max over rounds)`,
    ['phase', 'sends', 'write RTO', 'worst send', 'p50', 'p99', 'p50 vs steady', 'primary/secondary/spool', 'worst bound'],
    rows,
  );
}

/** Run the benchmark and print its tables. */
export async function main(options: FailoverLatencyOptions = optionsFromEnv()): Promise<{ ok: boolean }> {
  const disarm = watchdog('failover-latency', Math.max(timeLimitMs(), 240_000));
  const cleanup: Array<() => Promise<unknown>> = [];
  try {
    const { rate, rounds, phaseMs, shards, payloadBytes } = options;
    console.log(`failover-latency: ${rate} sends/s open loop, ${phaseMs} ms phases x ${rounds} rounds per fault, ~${payloadBytes} B JSON, ${shards} shards, request timeout ${REQUEST_TIMEOUT_MS} ms, 2 x kinesalite behind fault proxies`);
    const rig = await startRig(shards, cleanup);
    const { steady, results } = await runRounds(rig, options);
    const all = [...steady, ...[...results.values()].flatMap((r) => r.fault)];
    const [inEast, inWest] = await rig.streamIds();
    const failed = all.filter((x) => x.tier === 'failed').length;
    const missing = all.filter((x) => (x.tier === 'primary' && !inEast.has(x.id as string)) || (x.tier === 'secondary' && !inWest.has(x.id as string))).length;
    const ok = failed === 0 && missing === 0;
    console.log(resultTable(steady, results, rounds));
    console.log(`read-back: ${all.length} sends, ${failed} failed, ${missing} acknowledged but not in the stream they named: ${ok ? 'ok' : 'MISMATCH'}\n`);
    if (!ok) console.log('failover-latency: FAILED: sends failed, or the streams do not hold what was acknowledged.');
    return { ok };
  } finally {
    for (const step of cleanup) await step().catch((error: unknown) => console.error('failover-latency: cleanup step failed:', error));
    disarm();
  }
}

runIfMain(import.meta.url, () => main());
