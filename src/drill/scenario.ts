/**
 * What a drill scenario is: a timeline of faults per region, the bus settings it needs, and what its checks
 * expect. A scenario is data plus, at most, a hook or two; one file per scenario under `scenarios/`.
 */
import type { LongFormConfigInput } from '../config/schema.js';
import type { Fault } from './fault-proxy.js';
import type { ScenarioRun } from './scenario-run.js';

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
   * Per-key order violations among deltas in the primary (default `zero`). `report` where today's reconciler
   * fails back as soon as the primary answers, so live writes can overtake the backlog of the same key.
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
  configure?: (config: LongFormConfigInput) => LongFormConfigInput;
  /** Who sends: the bus in this process (default) or a bus in a child process that can be SIGKILLed. */
  producer?: 'in-process' | 'child';
  /** Replaces the default recovery (wait for the reconciler to drain everything) after the last phase. */
  recover?: (run: ScenarioRun) => Promise<void>;
}

/** A fault that passes everything through. */
export const HEALTHY: Fault = { mode: 'none' };
/** Every connection refused. */
export const REFUSE: Fault = { mode: 'refuse' };
