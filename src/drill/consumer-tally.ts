/**
 * The drill's spillway consumer: a consumer group of its own (`startDeliveryTally`) reads the scenario's
 * streams while the timeline plays and counts, after recovery, which required ids its handler never saw and
 * which it saw more than once.
 *
 * Invariants:
 * - The tally is always finished (its consumer closed) before the scenario's temp dir is removed.
 * - Unless the scenario reads `through-faults`, the consumer reads the emulators directly, not through the
 *   fault proxies, so a fault judges the bus and not the consumer's own retries.
 */
import { join } from 'node:path';
import type { LongFormConfigInput } from '../config/schema.js';
import { type DeliveryCounts, type DeliveryTally, startDeliveryTally } from '../consumer/delivery-tally.js';
import type { DrillEnvironment } from './environment.js';
import type { Scenario } from './scenario.js';
import type { DrillSettings } from './scenario-run.js';

/** A tally that can be finished once, from the verdict or from the cleanup. */
export interface ScenarioTally {
  /** Wait (up to `timeoutMs`) for every required id, stop the consumer and count. */
  count(required: ReadonlySet<string>, timeoutMs: number): Promise<DeliveryCounts>;
  /** Stop the consumer if `count` did not. */
  close(): Promise<void>;
}

/** The configuration the consumer reads with: the bus's, with Kinesis endpoints moved off the proxies unless `through-faults`. */
export function consumerConfig(config: LongFormConfigInput, env: DrillEnvironment, mode: Scenario['consumer']): LongFormConfigInput {
  if (mode === 'through-faults') return config;
  const direct = new Map([[env.primary.proxy.url, env.primary.upstream], [env.secondary.proxy.url, env.secondary.upstream]]);
  const move = <T>(target: T): T => {
    const t = target as { kind?: string; endpoint?: string };
    return t.kind === 'kinesis' && t.endpoint && direct.has(t.endpoint) ? ({ ...target, endpoint: direct.get(t.endpoint) } as T) : target;
  };
  const secondaries = (config.secondaries ?? []).map(move);
  return { ...config, primary: move(config.primary), secondaries };
}

/** Starts the drill's consumer for one scenario (state under `workDir/consumer`). */
export async function startScenarioTally(config: LongFormConfigInput, env: DrillEnvironment, scenario: Scenario, workDir: string, settings: DrillSettings): Promise<ScenarioTally> {
  const tally: DeliveryTally = await startDeliveryTally(consumerConfig(config, env, scenario.consumer), { stateDir: join(workDir, 'consumer'), logger: settings.logger });
  let finished: Promise<DeliveryCounts> | undefined;
  return {
    async count(required, timeoutMs) {
      if (!finished) {
        await tally.settle(required, timeoutMs);
        finished = tally.finish(required);
      }
      return finished;
    },
    async close() {
      finished ??= tally.finish(new Set());
      await finished.catch(() => undefined);
    },
  };
}
