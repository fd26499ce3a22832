/**
 * The drill as a whole: pick scenarios, start the backend once, run each scenario on it in turn, and
 * collect a report. Unknown scenario names are a {@link ConfigError} listing the known ones.
 */
import { ConfigError } from '../errors/index.js';
import { type BackendOptions, startEnvironment } from './environment.js';
import { configRegions } from './drill-config.js';
import type { Scenario } from './scenario.js';
import { type DrillSettings, runScenario, type ScenarioResult } from './scenario-run.js';
import { SCENARIOS } from './scenarios/index.js';

/** The full result of a drill, as written to `--json` and `report.json`. */
export interface DrillReport {
  backend: string;
  startedAt: string;
  settings: { rate: number; phaseMs: number; shards: number; pace: number; config: string | null; injectLoss: number };
  passed: boolean;
  durationMs: number;
  scenarios: ScenarioResult[];
}

/** The scenarios named (all when none are), in matrix order. */
export function selectScenarios(names: readonly string[], all: readonly Scenario[] = SCENARIOS): Scenario[] {
  if (names.length === 0) return [...all];
  const known = new Map(all.map((s) => [s.name, s]));
  const unknown = names.filter((n) => !known.has(n));
  if (unknown.length > 0) {
    throw new ConfigError(`--scenario: unknown scenario ${unknown.map((n) => `"${n}"`).join(', ')}; known: ${[...known.keys()].join(', ')} (see spillway drill --list)`, { field: 'scenario' });
  }
  return all.filter((s) => names.includes(s.name));
}

/** Options for {@link runMatrix}. */
export interface MatrixOptions {
  scenarios: readonly Scenario[];
  backend: BackendOptions;
  settings: DrillSettings;
  /** Where `--config` came from, for the report. */
  configFile?: string;
  /** Called when a scenario starts and when it ends. */
  onScenario?: (event: { scenario: Scenario; result?: ScenarioResult }) => void;
}

/** Runs the scenarios one after the other on one backend, which is always stopped again. */
export async function runMatrix(options: MatrixOptions): Promise<DrillReport> {
  const started = Date.now();
  const env = await startEnvironment(options.backend, configRegions(options.settings.userConfig));
  const results: ScenarioResult[] = [];
  try {
    for (const scenario of options.scenarios) {
      options.settings.signal?.throwIfAborted();
      options.onScenario?.({ scenario });
      const result = await runScenario(scenario, env, options.settings);
      results.push(result);
      options.onScenario?.({ scenario, result });
      options.settings.signal?.throwIfAborted();
    }
  } finally {
    await env.close();
  }
  const s = options.settings;
  return {
    backend: env.label,
    startedAt: new Date(started).toISOString(),
    settings: { rate: s.rate, phaseMs: s.phaseMs, shards: s.shards, pace: s.paceRecordsPerSecond, config: options.configFile ?? null, injectLoss: s.injectLoss ?? 0 },
    passed: results.every((r) => r.passed),
    durationMs: Date.now() - started,
    scenarios: results,
  };
}
