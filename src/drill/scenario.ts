/**
 * What a drill scenario is: a timeline of faults per region, the bus settings it needs, and what its checks
 * expect. A scenario is data plus, at most, a hook or two; one file per scenario under `scenarios/`.
 */
import type { LongFormConfigInput } from '../config/schema.js';
import type { Check, Figures } from './checks.js';
import type { DrillEnvironment } from './environment.js';
import type { Fault } from './fault-proxy.js';
import type { Observations } from './observe.js';
import type { Producer } from './producer.js';
import type { DrillSettings, ScenarioRun } from './scenario-run.js';

/** A capability a scenario needs from the backend; a scenario whose needs are not met is skipped with the reason. */
export type Capability = 'kinesis' | 'sqs' | 'eventbridge' | 'redis' | 'child-process';

/** One step of a timeline: both regions' faults for a share of the scenario's time. */
export interface Phase {
  /** A short name shown in the report (`steady`, `primary-down`, …). */
  name: string;
  /** Length, as a multiple of the drill's phase length (`--phase-ms`). */
  length: number;
  /** The primary region's fault; pass-through when omitted. */
  primary?: Fault;
  /** The secondary region's fault; pass-through when omitted. */
  secondary?: Fault;
  /** Run when the phase starts (after the faults are set), e.g. to SIGKILL a child. */
  onStart?: (run: ScenarioRun) => Promise<void>;
}

/** How a check treats its figure: `zero` fails the scenario unless it is 0; `report` shows it without judging. */
export type Expectation = 'zero' | 'report';

/** What a scenario's checks expect; anything omitted takes the default shown. */
export interface ScenarioExpectations {
  /** Acknowledged records missing from the primary (default `zero`; never anything else in a shipped scenario). */
  lost?: Expectation;
  /** Extra copies of an id in the primary stream (default `zero`). */
  duplicates?: Expectation;
  /**
   * Per-key order violations among deltas in the primary (default `zero`). `report` only where a scenario
   * chooses failback `immediate` (live writes may then overtake the backlog of their key), and say so in its note.
   */
  orderViolations?: Expectation;
  /** Sends rejected to the producer: every tier failed (default `zero`). */
  rejected?: Expectation;
  /** Records in the primary the drill never saw acknowledged (default `zero`; `report` when a producer is killed). */
  unexpected?: Expectation;
  /** `none`: no write may land anywhere but the primary and the primary breaker never opens (throttling). */
  failover?: 'none' | 'expected' | 'report';
  /** The drain must keep to the configured records-per-second cap (default true when anything was drained). */
  pacing?: boolean;
  /** At least one snapshot must be coalesced during replay (long outages). */
  coalescing?: boolean;
}

/** A drill scenario. */
export interface Scenario {
  /** Kebab-case name, used by `--scenario`. */
  name: string;
  /** One sentence for `--list`. */
  description: string;
  /** Why the expectations are what they are, shown in the report when present. */
  note?: string;
  /** What the backend must offer; `kinesis` is assumed. */
  needs?: readonly Capability[];
  phases: readonly Phase[];
  expect?: ScenarioExpectations;
  /** Adjusts the bus configuration the drill built (endpoints, streams and spool are already the drill's). */
  configure?: (config: LongFormConfigInput, settings: DrillSettings) => LongFormConfigInput;
  /**
   * Starts what the scenario needs beside the two Kinesis regions (an SQS emulator, a private redis-server)
   * and may replace the configuration; its `close` runs when the scenario ends, whatever happened.
   */
  setup?: (context: SetupContext) => Promise<ScenarioFixture>;
  /** Who sends: the bus in this process (default), a bus in a child process that can be SIGKILLed, or a custom producer. */
  producer?: 'in-process' | 'child' | ((context: ProducerContext) => Producer);
  /**
   * How the drill's consumer reads: `direct` (default) from the emulators behind the fault proxies, counting
   * what a consumer receives once the faults are over; `through-faults` through the proxies, so it reads
   * through the outage as a consumer in the faulted region would.
   */
  consumer?: 'direct' | 'through-faults';
  /** Checks of the scenario's own, judged with the others. */
  checks?: (run: ScenarioRun, figures: Figures) => Check[];
  /** Replaces the default recovery (wait for the reconciler to drain everything) after the last phase. */
  recover?: (run: ScenarioRun) => Promise<void>;
}

/** What {@link Scenario.setup} is given. */
export interface SetupContext {
  readonly env: DrillEnvironment;
  readonly settings: DrillSettings;
  readonly stream: string;
  readonly workDir: string;
  /** The configuration built so far (after `configure`). */
  readonly config: LongFormConfigInput;
}

/** What a custom producer is built from. */
export interface ProducerContext extends SetupContext {
  /** Where the producer reports samples, drains and moments. */
  readonly observations: Observations;
}

/** What {@link Scenario.setup} started. */
export interface ScenarioFixture {
  /** The configuration to run with (default: unchanged). */
  config?: LongFormConfigInput;
  /**
   * Records the fixture's own tiers still hold (messages visible or in flight in a queue). The default
   * recovery waits until this is 0 as well: the bus's stats do not count a remote secondary's backlog.
   */
  backlog?: () => Promise<number>;
  /** Named actions a phase's `onStart` may call (`run.fixture.actions.kill()`). */
  actions?: Record<string, () => Promise<void>>;
  /** Stops what `setup` started. */
  close(): Promise<void>;
}

/** A fault that passes everything through. */
export const HEALTHY: Fault = { mode: 'none' };
/** Every connection refused. */
export const REFUSE: Fault = { mode: 'refuse' };
