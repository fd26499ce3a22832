/**
 * Environment overrides for a configuration read from a file. They change
 * the raw configuration before it is validated, so a bad value is reported
 * like any other (with the variable named). See docs/configuration.md.
 *
 * | variable | changes |
 * |---|---|
 * | SPILLWAY_PRIMARY_REGION | the primary's region (short form: the first of `regions`) |
 * | SPILLWAY_ENDPOINT | `endpoint` of every tier that has a `region` |
 * | SPILLWAY_ENDPOINT_<REGION> | `endpoint` of tiers in that region, e.g. SPILLWAY_ENDPOINT_US_WEST_2 (wins over SPILLWAY_ENDPOINT) |
 * | SPILLWAY_LOG_LEVEL | the default logger's level |
 */

/** Which configuration fields an override set, and from which variable. */
export type OverrideSources = Map<string, string>;

type Obj = Record<string, unknown>;

const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

/** `us-west-2` → `SPILLWAY_ENDPOINT_US_WEST_2`. */
export function endpointVariable(region: string): string {
  return `SPILLWAY_ENDPOINT_${region.toUpperCase().replace(/-/g, '_')}`;
}

/**
 * A copy of `raw` with the environment overrides applied, and the fields
 * they set. `raw` is not changed.
 */
export function applyEnvOverrides(raw: unknown, env: NodeJS.ProcessEnv = process.env): { config: unknown; sources: OverrideSources } {
  const sources: OverrideSources = new Map();
  if (!isObj(raw)) return { config: raw, sources };
  const config = structuredClone(raw);
  const primaryRegion = env.SPILLWAY_PRIMARY_REGION;
  if (primaryRegion) {
    if (Array.isArray(config.regions)) {
      config.regions = [primaryRegion, ...config.regions.slice(1)];
      sources.set('regions.0', 'SPILLWAY_PRIMARY_REGION');
    } else if (isObj(config.primary)) {
      config.primary.region = primaryRegion;
      sources.set('primary.region', 'SPILLWAY_PRIMARY_REGION');
    }
  }
  if (Array.isArray(config.regions)) applyShortFormEndpoints(config, env, sources);
  const tiers: Array<[string, unknown]> = [['primary', config.primary], ...(Array.isArray(config.secondaries) ? config.secondaries.map((t, i): [string, unknown] => [`secondaries.${i}`, t]) : [])];
  for (const [field, tier] of tiers) {
    if (!isObj(tier) || typeof tier.region !== 'string') continue;
    const variable = env[endpointVariable(tier.region)] ? endpointVariable(tier.region) : env.SPILLWAY_ENDPOINT ? 'SPILLWAY_ENDPOINT' : undefined;
    if (!variable) continue;
    tier.endpoint = env[variable];
    sources.set(`${field}.endpoint`, variable);
  }
  return { config, sources };
}

function applyShortFormEndpoints(config: Obj, env: NodeJS.ProcessEnv, sources: OverrideSources): void {
  const endpoints: Obj = isObj(config.endpoints) ? config.endpoints : {};
  for (const region of config.regions as unknown[]) {
    if (typeof region !== 'string') continue;
    const variable = env[endpointVariable(region)] ? endpointVariable(region) : env.SPILLWAY_ENDPOINT ? 'SPILLWAY_ENDPOINT' : undefined;
    if (!variable) continue;
    endpoints[region] = env[variable];
    sources.set(`endpoints.${region}`, variable);
  }
  if (Object.keys(endpoints).length > 0) config.endpoints = endpoints;
}
