import { z } from 'zod';
import { ConfigError } from '../errors/index.js';
import { type BusConfig, busConfigSchema } from './schema.js';

/**
 * Validate a bus configuration. Throws a {@link ConfigError} whose message
 * lists every problem with its field path; `field` is the first one.
 */
export function parseBusConfig(input: unknown): BusConfig {
  const result = busConfigSchema.safeParse(input);
  if (!result.success) {
    const issues = result.error.issues.map((issue) => ({ field: issue.path.join('.') || '(root)', message: issue.message }));
    const lines = issues.map((i) => `  - ${i.field}: ${i.message}`);
    throw new ConfigError(`invalid spillway configuration:\n${lines.join('\n')}`, { field: issues[0]?.field ?? '(root)', cause: z.treeifyError(result.error) });
  }
  const config = result.data;
  const ids = [config.primary, ...config.secondaries].map((t, i) => ({ id: `${t.region}/${t.stream}`, field: i === 0 ? 'primary' : `secondaries.${i - 1}` }));
  const seen = new Map<string, string>();
  for (const { id, field } of ids) {
    const first = seen.get(id);
    if (first) throw new ConfigError(`${field} names the same stream as ${first} (${id}); a failover target must be a different region or stream`, { field });
    seen.set(id, field);
  }
  return config;
}
