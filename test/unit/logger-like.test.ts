import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { toPinoLogger } from '../../src/logging/logger-like.js';

function consoleLike() {
  const calls: Array<{ method: string; args: unknown[] }> = [];
  const record = (method: string) => (...args: unknown[]) => calls.push({ method, args });
  return { calls, logger: { error: record('error'), warn: record('warn'), info: record('info'), debug: record('debug') } };
}

describe('toPinoLogger', () => {
  it('returns a pino logger as it is', () => {
    const logger = pino({ level: 'silent' });
    expect(toPinoLogger(logger)).toBe(logger);
  });

  it('writes each line to the console-like method of its level, message first and fields second', () => {
    const { calls, logger } = consoleLike();
    const log = toPinoLogger(logger, 'debug');
    log.warn({ target: 'kinesis:us-east-1:orders', records: 3 }, 'Breaker opened.');
    log.error('Plain message.');
    log.debug({ n: 1 }, 'Detail.');
    log.child({ component: 'reconciler' }).info('From a child.');
    expect(calls).toEqual([
      { method: 'warn', args: ['Breaker opened.', { target: 'kinesis:us-east-1:orders', records: 3 }] },
      { method: 'error', args: ['Plain message.'] },
      { method: 'debug', args: ['Detail.', { n: 1 }] },
      { method: 'info', args: ['From a child.', { component: 'reconciler' }] },
    ]);
  });

  it('honours the level, and falls back to info or error when the logger lacks a method', () => {
    const calls: string[] = [];
    const log = toPinoLogger({ error: (m: unknown) => calls.push(`error:${String(m)}`), warn: () => undefined, info: (m: unknown) => calls.push(`info:${String(m)}`) }, 'info');
    log.debug('hidden');
    log.info('shown');
    log.fatal('fatal');
    expect(calls).toEqual(['info:shown', 'error:fatal']);
  });
});
