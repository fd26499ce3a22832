/**
 * Send latency through a failover, against the bus's own steady state, in one
 * run: two kinesalite emulators (primary, secondary), each behind a fault
 * proxy (pass-through unless told otherwise, so both paths have the same hop).
 *
 * Each round: awaited single sends with the primary healthy ("steady"); then
 * the primary's proxy refuses connections and sends continue until the
 * primary's breaker opens ("opening": each pays a refused connection before it
 * fails over); then sends with the breaker open ("primary-down": straight to
 * the secondary); then the primary comes back and the round waits for the
 * breaker to close. Rounds repeat, so steady and failed-over samples are
 * interleaved in time. Afterwards both streams are read back and counted.
 *
 *   npx tsx bench/failover-latency.ts
 *   BENCH_FAILOVER_SENDS=300 BENCH_ROUNDS=3 BENCH_SHARDS=4 BENCH_PAYLOAD_BYTES=200
 */
import type { KinesisClient } from '@aws-sdk/client-kinesis';
import type { Bus } from '../src/bus/bus.js';
import { createBus } from '../src/bus/create-bus.js';
import { startKinesisEmulator } from '../src/drill/emulators.js';
import { type FaultProxy, startFaultProxy } from '../src/drill/fault-proxy.js';
import { createKinesisClientFor, ensureStream, FAKE_CREDENTIALS, readAllRecords } from '../src/drill/kinesis-admin.js';
import type { TierName } from '../src/events/bus-events.js';
import { envInt, fmt, jsonPayload, latencySummary, makeTempDir, median, quietLogger, ratio, removeTempDir, runIfMain, table, timeLimitMs, watchdog } from './lib.js';

/** Sizes for one run; each defaults from the environment. */
export interface FailoverLatencyOptions {
  /** Awaited sends per phase per round. */
  sends: number;
  rounds: number;
  shards: number;
  payloadBytes: number;
}

/** Options from BENCH_* environment variables. */
export function optionsFromEnv(): FailoverLatencyOptions {
  return {
    sends: envInt('BENCH_FAILOVER_SENDS', 300),
    rounds: envInt('BENCH_ROUNDS', 3),
    shards: envInt('BENCH_SHARDS', 4),
    payloadBytes: envInt('BENCH_PAYLOAD_BYTES', 200),
  };
}

type Phase = 'warm' | 'steady' | 'opening' | 'down';
const PHASES: readonly Phase[] = ['warm', 'steady', 'opening', 'down'];
/** The most sends "opening" may take before the breaker must have opened (default breaker: 3 consecutive failures). */
const MAX_OPENING_SENDS = 50;
const RESET_TIMEOUT_MS = 1_000;

interface PhaseLog {
  latencies: number[];
  landed: Record<TierName, number>;
  failed: number;
}

const emptyLog = (): PhaseLog => ({ latencies: [], landed: { primary: 0, secondary: 0, spool: 0 }, failed: 0 });

async function waitFor(what: string, ok: () => boolean, timeoutMs: number): Promise<number> {
  const started = performance.now();
  while (!ok()) {
    if (performance.now() - started > timeoutMs) throw new Error(`failover-latency: ${what} did not happen within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  return performance.now() - started;
}

/** Read a stream back and count records. */
async function countStream(client: KinesisClient, stream: string): Promise<number> {
  return (await readAllRecords(client, stream, { timeoutMs: 30_000 })).length;
}

/** Run the benchmark and print its tables. */
export async function main(options: FailoverLatencyOptions = optionsFromEnv()): Promise<{ ok: boolean }> {
  const disarm = watchdog('failover-latency', timeLimitMs());
  const cleanup: Array<() => Promise<unknown>> = [];
  try {
    const { sends, rounds, shards, payloadBytes } = options;
    console.log(`failover-latency: ${fmt(sends)} awaited sends per phase x ${rounds} rounds, ~${payloadBytes} B JSON, ${shards} shards, 2 x kinesalite behind fault proxies`);
    const emulators = await Promise.all([startKinesisEmulator(), startKinesisEmulator()]);
    for (const e of emulators) cleanup.unshift(() => e.stop());
    const [east, west] = emulators;
    const proxies: [FaultProxy, FaultProxy] = [await startFaultProxy({ target: east.endpoint }), await startFaultProxy({ target: west.endpoint })];
    for (const p of proxies) cleanup.unshift(() => p.close());
    const [eastProxy, westProxy] = proxies;
    const admins = [createKinesisClientFor(east.endpoint, 'us-east-1'), createKinesisClientFor(west.endpoint, 'us-west-2')] as const;
    for (const a of admins) cleanup.unshift(async () => a.destroy());
    const stream = `bench-failover-${Date.now().toString(36)}`;
    await Promise.all(admins.map((a) => ensureStream(a, stream, shards)));
    const spoolDir = await makeTempDir('spillway-bench-failover-');
    cleanup.push(() => removeTempDir(spoolDir));
    const bus: Bus = await createBus(
      {
        primary: { kind: 'kinesis', region: 'us-east-1', stream, endpoint: eastProxy.url, credentials: FAKE_CREDENTIALS, requestTimeoutMs: 1_000 },
        secondaries: [{ kind: 'kinesis', region: 'us-west-2', stream, endpoint: westProxy.url, credentials: FAKE_CREDENTIALS, requestTimeoutMs: 1_000 }],
        spool: { kind: 'disk', dir: spoolDir },
        verifyStreams: true,
        breaker: { resetTimeoutMs: RESET_TIMEOUT_MS },
        reconciler: { enabled: false },
      },
      { logger: quietLogger },
    );
    cleanup.unshift(() => bus.close());
    let primary: 'closed' | 'open' | 'halfOpen' = 'closed';
    bus.events.on('breaker.open', (e) => e.tier === 'primary' && (primary = 'open'));
    bus.events.on('breaker.halfOpen', (e) => e.tier === 'primary' && (primary = 'halfOpen'));
    bus.events.on('breaker.close', (e) => e.tier === 'primary' && (primary = 'closed'));

    const logs: Record<Phase, PhaseLog> = { warm: emptyLog(), steady: emptyLog(), opening: emptyLog(), down: emptyLog() };
    let serial = 0;
    const sendOne = async (phase: Phase): Promise<void> => {
      const i = serial++;
      const data = jsonPayload(i, payloadBytes);
      const started = performance.now();
      try {
        const r = await bus.send({ partitionKey: `key-${i % 64}`, data });
        logs[phase].latencies.push(performance.now() - started);
        logs[phase].landed[r.landedOn.tier] += 1;
      } catch {
        logs[phase].failed += 1;
      }
    };

    for (let i = 0; i < 50; i += 1) await sendOne('warm');
    const openMs: number[] = [];
    const closeMs: number[] = [];
    for (let round = 0; round < rounds; round += 1) {
      for (let i = 0; i < sends; i += 1) await sendOne('steady');
      const cut = performance.now();
      eastProxy.setFault({ mode: 'refuse' });
      for (let i = 0; i < MAX_OPENING_SENDS && primary === 'closed'; i += 1) await sendOne('opening');
      if (primary === 'closed') throw new Error(`failover-latency: the primary breaker did not open within ${MAX_OPENING_SENDS} sends`);
      openMs.push(performance.now() - cut);
      for (let i = 0; i < sends; i += 1) await sendOne('down');
      eastProxy.setFault({ mode: 'none' });
      closeMs.push(await waitFor('the primary breaker closing', () => primary === 'closed', 10 * RESET_TIMEOUT_MS));
    }

    const [inEast, inWest] = await Promise.all([countStream(admins[0], stream), countStream(admins[1], stream)]);
    const onTier = (tier: TierName): number => PHASES.reduce((sum, p) => sum + logs[p].landed[tier], 0);
    const failed = PHASES.reduce((sum, p) => sum + logs[p].failed, 0);
    const spooled = onTier('spool');
    const wrongTier = logs.steady.landed.secondary + logs.steady.landed.spool + logs.down.landed.primary + logs.down.landed.spool;
    const ok = inEast === onTier('primary') && inWest === onTier('secondary') && failed === 0 && spooled === 0 && wrongTier === 0;

    const steady = latencySummary(logs.steady.latencies);
    const row = (label: string, phase: Phase): string[] => {
      const s = latencySummary(logs[phase].latencies);
      const l = logs[phase].landed;
      return [label, fmt(s.n), `${l.primary}/${l.secondary}/${l.spool}`, fmt(s.p50, 2), fmt(s.p99, 2), ratio(s.p50, steady.p50), ratio(s.p99, steady.p99)];
    };
    console.log(
      table(
        `Awaited single-send latency by phase (ms; ${rounds} rounds, phases interleaved in time)`,
        ['phase', 'n', 'primary/secondary/spool', 'p50', 'p99', 'p50 vs steady', 'p99 vs steady'],
        [
          row('steady: primary healthy (baseline)', 'steady'),
          row('opening: primary refusing, breaker not yet open', 'opening'),
          row('primary-down: breaker open, to the secondary', 'down'),
        ],
      ),
    );
    console.log(
      table(
        'Breaker timing and read-back',
        ['measure', 'value'],
        [
          ['refuse -> primary breaker open, ms (median)', fmt(median(openMs), 1)],
          ['sends failed over before it opened, per round', fmt(logs.opening.latencies.length / rounds, 1)],
          [`primary back -> breaker closed, ms (median; resetTimeoutMs ${RESET_TIMEOUT_MS})`, fmt(median(closeMs), 0)],
          ['acknowledged on primary / records in primary stream', `${fmt(onTier('primary'))} / ${fmt(inEast)}`],
          ['acknowledged on secondary / records in secondary stream', `${fmt(onTier('secondary'))} / ${fmt(inWest)}`],
          ['failed sends, spooled, on an unexpected tier', `${failed}, ${spooled}, ${wrongTier}`],
          ['check', ok ? 'ok' : 'MISMATCH'],
        ],
      ),
    );
    if (!ok) console.log('failover-latency: FAILED: sends failed, landed on an unexpected tier, or the streams do not hold what was acknowledged.');
    return { ok };
  } finally {
    for (const step of cleanup) await step().catch((error: unknown) => console.error('failover-latency: cleanup step failed:', error));
    disarm();
  }
}

runIfMain(import.meta.url, () => main());
