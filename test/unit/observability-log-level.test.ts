/** Log level names are checked before a logger is built, with a sentence that lists the levels. */
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/errors/index.js';
import { LOG_LEVELS, logLevelFromEnv, parseLogLevel } from '../../src/observability/log-level.js';

describe('log levels', () => {
  it("accepts pino's levels, any case, and names the source and every level otherwise", () => {
    expect(LOG_LEVELS).toEqual(['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent']);
    expect(parseLogLevel(' Debug ', '--log-level')).toBe('debug');
    expect(() => parseLogLevel('verbose', '--log-level')).toThrow(ConfigError);
    expect(() => parseLogLevel('verbose', '--log-level')).toThrow('--log-level: unknown log level "verbose"; use one of trace, debug, info, warn, error, fatal, silent');
  });

  it('reads SPILLWAY_LOG_LEVEL, falls back when it is unset or empty, and rejects a bad one', () => {
    expect(logLevelFromEnv('warn', {})).toBe('warn');
    expect(logLevelFromEnv('warn', { SPILLWAY_LOG_LEVEL: '' })).toBe('warn');
    expect(logLevelFromEnv('warn', { SPILLWAY_LOG_LEVEL: 'info' })).toBe('info');
    expect(() => logLevelFromEnv('warn', { SPILLWAY_LOG_LEVEL: 'loud' })).toThrow(/^SPILLWAY_LOG_LEVEL: unknown log level "loud"/);
  });
});
