/**
 * Runs one scenario: a fresh stream pair and spool, a producer, the timeline of faults, recovery, then the
 * primary stream read back and judged.
 *
 * Invariants:
 * - Whatever happens (a failed check, an error, an abort), both proxies are back to pass-through, the
 *   producer (and its child process) is closed and the scenario's temp dir is removed before it returns.
 * - The verdict is computed only from what the producer recorded as acknowledged, what the primary
 *   stream holds when read back directly from the region's endpoint (never through the bus), and what the
 *   drill's own spillway consumer handed to its handler.
 * - The consumer is stopped and the scenario's fixture (`setup`) closed before the temp dir is removed.
 */
import { randomUUID } from 'node:crypto';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from 'pino';
import type { BusConfig, LongFormConfigInput } from '../config/schema.js';
import { decodeEnvelope, isEnvelopeBytes } from '../envelope/index.js';
import { createChildProducer } from './child-producer.js';
import { type Check, evaluate, type Figures, type PrimaryRecord, requiredIds } from './checks.js';
import { type ScenarioTally, startScenarioTally } from './consumer-tally.js';
import { drillBusConfig } from './drill-config.js';
import type { DrillEnvironment } from './environment.js';
import { ensureStream, readAllRecords } from './kinesis-admin.js';
import { Observations } from './observe.js';
import { createInProcessProducer, type Producer } from './producer.js';
import { HEALTHY, type ProducerContext, type Scenario, type ScenarioFixture } from './scenario.js';
import { type PhaseSpan, perSecond, type SecondPoint } from './series.js';
import { makeTempDir, removeTempDir } from './temp-dirs.js';

/** Drill-wide settings; the CLI fills them in. */
export interface DrillSettings {
  /** Records per second the producer sends. */
  rate: number;
  /** The unit of a phase's length, in ms. */
  phaseMs: number;
  shards: number;
  /** Reconciler ceiling, records per second (when no configuration file sets one). */
  paceRecordsPerSecond: number;
  recoveryTimeoutMs: number;
  logger: Logger;
  /** The user's configuration (`--config`), drilled with the drill's endpoints, streams and spool. */
  userConfig?: BusConfig;
  /** Deliberate loss: drop this many acknowledged deltas from what is read back, so the checks must fail. */
  injectLoss?: number;
  /** Live progress, a few times a second. */
  onProgress?: (progress: Progress) => void;
  signal?: AbortSignal;
}

/** What the terminal shows while a scenario runs. */
export interface Progress {
  scenario: string;
  phase: string;
  /** Acknowledged in the last second, per tier. */
  primary: number;
  secondary: number;
  spool: number;
  spooled: number;
}

/** A running scenario, as its hooks see it. */
export interface ScenarioRun {
  readonly scenario: Scenario;
  readonly settings: DrillSettings;
  readonly env: DrillEnvironment;
  readonly stream: string;
  readonly workDir: string;
  readonly config: LongFormConfigInput;
  readonly observations: Observations;
  readonly producer: Producer;
  /** What the scenario's `setup` started, if anything. */
  readonly fixture: ScenarioFixture | undefined;
  readonly tally: ScenarioTally;
  /** The phases played so far. */
  readonly spans: PhaseSpan[];
  /** When the primary was first faulted (epoch ms). */
  faultAt: number | null;
}

/** The outcome of one scenario. */
export interface ScenarioResult {
  name: string;
  description: string;
  note?: string;
  passed: boolean;
  /** Why the scenario did not run (its feature or a tool is missing); such a scenario neither passes nor fails. */
  skipped?: string;
  /** Why the scenario could not finish; it fails. */
  error?: string;
  figures?: Figures;
  checks: Check[];
  phases: PhaseSpan[];
  series: SecondPoint[];
  /** Seconds since the scenario started, and what happened. */
  timeline: Array<{ t: number; what: string }>;
  durationMs: number;
}

/** Runs `scenario` on `env`; never throws for a scenario failure (the result says why). */
export async function runScenario(scenario: Scenario, env: DrillEnvironment, settings: DrillSettings): Promise<ScenarioResult> {
  const base = { name: scenario.name, description: scenario.description, ...(scenario.note ? { note: scenario.note } : {}), checks: [], phases: [], series: [], timeline: [], durationMs: 0 };
  const missing = (scenario.needs ?? []).map((c) => env.missing.get(c)).filter((r): r is string => r !== undefined);
  if (missing.length > 0) return { ...base, passed: true, skipped: missing.join('; ') };
  const started = Date.now();
  const workDir = await makeTempDir();
  const observations = new Observations();
  let producer: Producer | undefined;
  let fixture: ScenarioFixture | undefined;
  let tally: ScenarioTally | undefined;
  try {
    const stream = `drill-${scenario.name}-${randomUUID().slice(0, 8)}`;
    await Promise.all([ensureStream(env.primary.admin, stream, settings.shards), ensureStream(env.secondary.admin, stream, settings.shards)]);
    const spoolDir = join(workDir, 'spool');
    await mkdir(spoolDir);
    const built = (scenario.configure ?? ((c) => c))(drillBusConfig(env, stream, spoolDir, settings), settings);
    fixture = scenario.setup ? await scenario.setup({ env, settings, stream, workDir, config: built }) : undefined;
    const config = fixture?.config ?? built;
    producer = makeProducer(scenario, { env, settings, stream, workDir, config, observations });
    tally = await startScenarioTally(config, env, scenario, workDir, settings);
    const run: ScenarioRun = { scenario, settings, env, stream, workDir, config, observations, producer, fixture, tally, spans: [], faultAt: null };
    await playTimeline(run, started);
    await producer.stopSending();
    env.primary.proxy.setFault(HEALTHY);
    env.secondary.proxy.setFault(HEALTHY);
    observations.mark('load stopped; both regions healthy; waiting for the drain');
    await (scenario.recover ? scenario.recover(run) : recoverAll(run));
    observations.mark('backlog drained');
    return { ...base, ...(await judgeRun(run, started, Date.now())) };
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    return { ...base, passed: false, error: message, durationMs: Date.now() - started };
  } finally {
    env.primary.proxy.setFault(HEALTHY);
    env.secondary.proxy.setFault(HEALTHY);
    await tally?.close();
    await producer?.close().catch(() => undefined);
    await fixture?.close().catch(() => undefined);
    await removeTempDir(workDir);
  }
}

function makeProducer(scenario: Scenario, context: ProducerContext): Producer {
  const { config, settings, workDir, observations } = context;
  if (typeof scenario.producer === 'function') return scenario.producer(context);
  return scenario.producer === 'child'
    ? createChildProducer({ config, rate: settings.rate, workDir, observations })
    : createInProcessProducer({ config, rate: settings.rate, logger: settings.logger, observations });
}

/** The default recovery: the bus drained, and whatever the fixture's own tiers hold drained too. */
async function recoverAll(run: ScenarioRun): Promise<void> {
  const { producer, settings, fixture } = run;
  const deadline = Date.now() + settings.recoveryTimeoutMs;
  let marked = false;
  for (;;) {
    await producer.awaitDrained(Math.max(1, deadline - Date.now()), settings.signal);
    const left = (await fixture?.backlog?.()) ?? 0;
    if (left === 0) return;
    if (!marked) run.observations.mark(`the bus reports drained, but its secondary still holds ${left} records (visible or in flight); waiting for them`);
    marked = true;
    if (Date.now() > deadline) throw new Error(`the secondary still held ${left} records ${settings.recoveryTimeoutMs} ms after recovery`);
    await sleep(250, undefined, settings.signal ? { signal: settings.signal } : {});
  }
}

/** Reads the primary back and judges the run. */
async function judgeRun(run: ScenarioRun, started: number, ended: number): Promise<Omit<ScenarioResult, 'name' | 'description' | 'note'>> {
  const { env, settings, observations, producer, config, scenario } = run;
  const sent = producer.sent();
  const primary = dropForInjectedLoss(await readPrimary(env, run.stream), sent, settings.injectLoss ?? 0);
  const paceCap = typeof config.reconciler?.maxRecordsPerSecond === 'number' ? config.reconciler.maxRecordsPerSecond : null;
  const primaryBreakerOpened = observations.events.some((e) => e.what.startsWith('breaker open: primary')) || observations.samples.some((s) => s.breakers.primary === 'open');
  const consumer = await run.tally.count(requiredIds(sent), Math.min(30_000, settings.recoveryTimeoutMs));
  const { figures, checks } = evaluate({ sent, primary, drains: observations.drains, expect: scenario.expect ?? {}, faultAt: run.faultAt, primaryBreakerOpened, paceCap, consumer });
  checks.push(...(scenario.checks?.(run, figures) ?? []));
  return {
    passed: checks.every((c) => c.passed !== false),
    figures,
    checks,
    phases: run.spans,
    series: perSecond(started, ended, sent, observations.samples, observations.drains),
    timeline: observations.events.map((e) => ({ t: Math.round((e.at - started) / 100) / 10, what: e.what })),
    durationMs: ended - started,
  };
}

async function playTimeline(run: ScenarioRun, started: number): Promise<void> {
  const { env, settings, producer, observations } = run;
  await producer.start();
  for (const phase of run.scenario.phases) {
    settings.signal?.throwIfAborted();
    const from = Date.now();
    env.primary.proxy.setFault(phase.primary ?? HEALTHY);
    env.secondary.proxy.setFault(phase.secondary ?? HEALTHY);
    if (run.faultAt === null && (phase.primary ?? HEALTHY).mode !== 'none') run.faultAt = from;
    producer.setPhase(phase.name);
    observations.mark(`phase ${phase.name}: primary ${describe(phase.primary)}, secondary ${describe(phase.secondary)}`);
    await phase.onStart?.(run);
    const stopProgress = reportProgress(run, phase.name);
    try {
      await sleep(Math.max(0, from + phase.length * settings.phaseMs - Date.now()), undefined, settings.signal ? { signal: settings.signal } : {});
    } finally {
      stopProgress();
    }
    run.spans.push({ name: phase.name, from: (from - started) / 1000, to: (Date.now() - started) / 1000 });
  }
}

function reportProgress(run: ScenarioRun, phase: string): () => void {
  const emit = run.settings.onProgress;
  if (!emit) return () => undefined;
  const tick = (): void => {
    const since = Date.now() - 1000;
    const recent = run.producer.sent().filter((s) => (s.settledAt ?? 0) >= since && s.landedOn);
    const count = (tier: string): number => recent.filter((s) => s.landedOn === tier).length;
    const spooled = run.observations.samples[run.observations.samples.length - 1]?.spooled ?? 0;
    emit({ scenario: run.scenario.name, phase, primary: count('primary'), secondary: count('secondary'), spool: count('spool'), spooled });
  };
  tick();
  const timer = setInterval(tick, 500);
  return () => clearInterval(timer);
}

function describe(fault: Scenario['phases'][number]['primary']): string {
  const f = fault ?? HEALTHY;
  switch (f.mode) {
    case 'none': return 'healthy';
    case 'refuse': return 'refusing connections';
    case 'hang': return 'hanging';
    case 'delay': return `slow (${f.ms} ms)`;
    case 'error500': return 'answering 500';
    case 'throttle': return 'throttling';
    case 'partial': return `failing 1 in ${f.failEvery} records`;
  }
}

async function readPrimary(env: DrillEnvironment, stream: string): Promise<PrimaryRecord[]> {
  const records = await readAllRecords(env.primary.admin, stream, { timeoutMs: 60_000 });
  return records.filter((r) => isEnvelopeBytes(r.data)).map((r) => ({ envelope: decodeEnvelope(r.data), shardId: r.shardId }));
}

/** The deliberate-loss hook: forget `n` acknowledged deltas from the read-back, as if the primary never got them. */
function dropForInjectedLoss(primary: PrimaryRecord[], sent: readonly { id?: string; kind: string }[], n: number): PrimaryRecord[] {
  if (n <= 0) return primary;
  const victims = new Set(sent.filter((s) => s.id !== undefined && s.kind === 'delta').slice(-n).map((s) => s.id as string));
  return primary.filter((r) => !victims.has(r.envelope.id));
}
