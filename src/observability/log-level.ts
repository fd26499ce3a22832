/**
 * Log level names: pino's, checked before a logger is built so a typo gets a
 * sentence that lists the levels instead of pino's stack trace.
 */
import { pino } from 'pino';
import { ConfigError } from '../errors/index.js';

/** The levels spillway accepts, most verbose first. */
export const LOG_LEVELS: readonly string[] = [...Object.entries(pino.levels.values).sort((a, b) => a[1] - b[1]).map(([name]) => name), 'silent'];

/**
 * `raw` when it names a level, else a ConfigError naming `source` (e.g.
 * `--log-level` or `SPILLWAY_LOG_LEVEL`) and listing the levels.
 */
export function parseLogLevel(raw: string, source: string): string {
  const level = raw.trim().toLowerCase();
  if (LOG_LEVELS.includes(level)) return level;
  throw new ConfigError(`${source}: unknown log level ${JSON.stringify(raw)}; use one of ${LOG_LEVELS.join(', ')}`, { field: source });
}

/** The level from `SPILLWAY_LOG_LEVEL`, checked, or `fallback` when it is unset. */
export function logLevelFromEnv(fallback = 'warn', env: NodeJS.ProcessEnv = process.env): string {
  const raw = env.SPILLWAY_LOG_LEVEL;
  return raw === undefined || raw === '' ? fallback : parseLogLevel(raw, 'SPILLWAY_LOG_LEVEL');
}
