/**
 * The bus configuration a scenario runs with: the drill's defaults, or the user's own configuration
 * (`--config`: its breaker, delivery, batching, spool limits and reconciler settings) with the endpoints,
 * streams, credentials and spool directories replaced by the drill's.
 */
import { join } from 'node:path';
import type { SpoolConfig } from '../../adapters/registry.js';
import { loadConfig } from '../config/load.js';
import { parseBusConfig } from '../config/parse.js';
import type { BusConfig, LongFormConfigInput } from '../config/schema.js';
import { ConfigError } from '../errors/index.js';
import type { DrillEnvironment } from './environment.js';
import { FAKE_CREDENTIALS } from './kinesis-admin.js';
import type { DrillSettings } from './scenario-run.js';

/**
 * Reads and validates a configuration file (YAML or JSON, short or long form, environment overrides
 * applied) for `--config`; refuses, with a {@link ConfigError}, what the drill cannot stand in for yet.
 */
export async function loadUserConfig(file: string): Promise<BusConfig> {
  const config = parseBusConfig(await loadConfig(file));
  const unsupported = [config.primary, ...config.secondaries.slice(0, 1)].find((t) => t.kind !== 'kinesis');
  if (unsupported) {
    throw new ConfigError(`--config ${file}: the drill puts Kinesis tiers behind its fault proxies; a "${unsupported.kind}" tier is not drilled yet. Drill a configuration whose primary and first secondary are Kinesis`, { field: 'primary' });
  }
  const spool = config.spools.find((s) => s.kind !== 'disk');
  if (spool) throw new ConfigError(`--config ${file}: the drill runs disk spools; a "${spool.kind}" spool is not drilled yet`, { field: 'spool' });
  if (config.secondaries.length === 0) throw new ConfigError(`--config ${file}: the drill needs a secondary tier to fail over to; add one under secondaries`, { field: 'secondaries' });
  return config;
}

/** The regions a configuration names (primary, first secondary), for starting the backend. */
export function configRegions(config: BusConfig | undefined): [string, string] | undefined {
  const [primary, secondary] = [config?.primary, config?.secondaries[0]];
  if (primary?.kind !== 'kinesis' || secondary?.kind !== 'kinesis') return undefined;
  return [primary.region, secondary.region];
}

/** The configuration for one scenario run. */
export function drillBusConfig(env: DrillEnvironment, stream: string, spoolDir: string, settings: DrillSettings): LongFormConfigInput {
  const user = settings.userConfig;
  const target = (region: DrillEnvironment['primary'], timeout: number | undefined) => ({
    kind: 'kinesis' as const, region: region.name, stream, endpoint: region.proxy.url, credentials: FAKE_CREDENTIALS, requestTimeoutMs: timeout ?? 1_000,
  });
  if (user) {
    const { stateDir: _ignored, primary, secondaries, spools, ...common } = user;
    const timeoutOf = (t: (typeof secondaries)[number] | undefined) => (t?.kind === 'kinesis' ? t.requestTimeoutMs : undefined);
    return {
      ...common,
      primary: target(env.primary, timeoutOf(primary)),
      secondaries: [target(env.secondary, timeoutOf(secondaries[0]))],
      spool: spools.map((s: SpoolConfig, i: number) => ({ ...s, dir: spools.length === 1 ? spoolDir : join(spoolDir, String(i)) })),
    };
  }
  return {
    primary: target(env.primary, 1_000),
    secondaries: [target(env.secondary, 1_000)],
    spool: { kind: 'disk', dir: spoolDir },
    breaker: { resetTimeoutMs: 500, volumeThreshold: 2 },
    reconciler: { enabled: true, intervalMs: 1_000, maxRecordsPerSecond: settings.paceRecordsPerSecond, maxBytesPerSecond: 50 * 1_048_576, uncertainSettleMs: 1_000 },
  };
}
