/**
 * Validating a bus configuration: long or short form, against the kinds of a
 * registry. Every problem becomes one {@link ConfigError} that lists each
 * field with what is wrong and the fix, before anything is opened.
 */
import { z } from 'zod';
import { defaultRegistry, type SpoolConfig, type TierConfig, type TierRegistry } from '../../adapters/registry.js';
import { ConfigError } from '../errors/index.js';
import { type BusConfig, buildBusSchema, ROOT_SECTIONS, shapeKeys, withKeyHint } from './schema.js';
import { expandShortForm, isShortForm, mixesForms, shortFormSchema } from './short-form.js';

const schemas = new WeakMap<TierRegistry, ReturnType<typeof buildBusSchema>>();

function busSchema(registry: TierRegistry): ReturnType<typeof buildBusSchema> {
  let schema = schemas.get(registry);
  if (!schema) schemas.set(registry, (schema = buildBusSchema(registry)));
  return schema;
}

/**
 * Validate a bus configuration. Throws a {@link ConfigError} whose message
 * lists every problem with its field path; `field` is the first one.
 */
export function parseBusConfig(input: unknown, registry: TierRegistry = defaultRegistry): BusConfig {
  if (mixesForms(input)) {
    throw new ConfigError('configuration mixes the short form (stream, regions, endpoints) with the long form (primary, secondaries); use one', { field: '(root)' });
  }
  let long = input;
  if (isShortForm(input)) {
    const short = shortFormSchema.safeParse(input);
    if (!short.success) throw issuesError(short.error, [...shapeKeys(shortFormSchema), ...Object.keys(shortFormSchema.shape)]);
    long = expandShortForm(short.data, input);
  }
  const schema = busSchema(registry);
  const result = schema.safeParse(long);
  if (!result.success) throw issuesError(result.error, shapeKeys(schema));
  const { spool, ...rest } = result.data;
  const config: BusConfig = { ...rest, primary: result.data.primary as TierConfig, secondaries: rest.secondaries as TierConfig[], spools: (Array.isArray(spool) ? spool : [spool]) as SpoolConfig[] };
  checkDistinct(config, registry);
  if (config.stateDir === undefined && !config.spools.some((s) => typeof (s as { dir?: unknown }).dir === 'string')) {
    throw new ConfigError('stateDir is required when no spool has a dir: the dedupe journal and drain checkpoints need a local directory; set stateDir', { field: 'stateDir' });
  }
  return config;
}

function issuesError(error: z.ZodError, rootKeys: string[]): ConfigError {
  const issues = error.issues.flatMap((raw) => {
    const section = raw.path.length === 1 ? ROOT_SECTIONS[String(raw.path[0])] : undefined;
    const hinted = withKeyHint(raw as typeof raw & { keys?: string[] }, raw.path.length === 0 ? rootKeys : (section ?? []));
    return hinted.map((issue) => ({ field: issue.path.join('.') || '(root)', message: issue.message }));
  });
  const lines = issues.map((i) => `  - ${i.field}: ${i.message}`);
  return new ConfigError(`invalid spillway configuration:\n${lines.join('\n')}`, { field: issues[0]?.field ?? '(root)', cause: z.treeifyError(error) });
}

/** A failover tier must not be the primary (or another tier) under another name. */
function checkDistinct(config: BusConfig, registry: TierRegistry): void {
  const seen = new Map<string, string>();
  const label = (c: { kind: string }, list: TierRegistry['targets'] | TierRegistry['spools']): string =>
    list.find((d) => d.kind === c.kind)?.describe(c as never) ?? c.kind;
  const tiers = [['primary', config.primary] as const, ...config.secondaries.map((t, i) => [`secondaries.${i}`, t] as const)];
  const spools = config.spools.map((s, i) => [config.spools.length === 1 ? 'spool' : `spool.${i}`, s] as const);
  for (const [field, c, list] of [...tiers.map(([f, c]) => [f, c, registry.targets] as const), ...spools.map(([f, c]) => [f, c, registry.spools] as const)]) {
    const id = label(c, list);
    const first = seen.get(id);
    if (first) {
      throw new ConfigError(`${field} (${id}) is the same target as ${first}; a failover tier must be a different region, stream, queue, bus or directory`, { field });
    }
    seen.set(id, field);
  }
}
