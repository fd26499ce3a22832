/**
 * The bus configuration a scenario runs with: the drill's defaults, or the user's own configuration
 * (`--config`: its tiers, spool limits, breaker, delivery and reconciler settings) with the endpoints,
 * streams, credentials and spool directory replaced by the drill's.
 */
import { readFile } from 'node:fs/promises';
import type { BusConfigInput } from '../config/schema.js';
import { parseBusConfig } from '../config/parse.js';
import { ConfigError } from '../errors/index.js';
import type { DrillEnvironment } from './environment.js';
import { FAKE_CREDENTIALS } from './kinesis-admin.js';
import type { DrillSettings } from './scenario-run.js';

/** Reads and validates a configuration file (JSON) for `--config`; a bad one is a {@link ConfigError}. */
export async function loadUserConfig(file: string): Promise<BusConfigInput> {
  let raw: unknown;
  try {
    raw = JSON.parse(await readFile(file, 'utf8'));
  } catch (cause) {
    throw new ConfigError(`--config ${file} could not be read as JSON: ${(cause as Error).message}`, { field: 'config', cause });
  }
  parseBusConfig(raw);
  return raw as BusConfigInput;
}

/** The regions a configuration names (primary, first secondary), for starting the backend. */
export function configRegions(config: BusConfigInput | undefined): [string, string] | undefined {
  const secondary = config?.secondaries?.[0];
  if (!config || !secondary) return undefined;
  return [config.primary.region, secondary.region];
}

/** The configuration for one scenario run. */
export function drillBusConfig(env: DrillEnvironment, stream: string, spoolDir: string, settings: DrillSettings): BusConfigInput {
  const user = settings.userConfig;
  const target = (region: DrillEnvironment['primary'], timeout: number | undefined) => ({
    kind: 'kinesis' as const, region: region.name, stream, endpoint: region.proxy.url, credentials: FAKE_CREDENTIALS, requestTimeoutMs: timeout ?? 1_000,
  });
  if (user) {
    const { stateDir: _ignored, ...rest } = user;
    return {
      ...rest,
      primary: target(env.primary, user.primary.requestTimeoutMs),
      secondaries: [target(env.secondary, user.secondaries?.[0]?.requestTimeoutMs)],
      spool: { ...user.spool, dir: spoolDir },
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
