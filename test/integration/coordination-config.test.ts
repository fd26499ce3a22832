/**
 * Configuration of coordination and of the shared dedupe window: bad values
 * are a ConfigError naming the field and the fix; a dedupe window shorter
 * than a day is warned about at start (real Redis at 127.0.0.1:6379 for the
 * bus that opens it; no stream is contacted, verifyStreams is off).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { defaultRegistry } from '../../adapters/registry.js';
import { createBus } from '../../src/bus/create-bus.js';
import { parseBusConfig } from '../../src/config/parse.js';
import type { BusConfigInput } from '../../src/config/schema.js';
import { ConfigError } from '../../src/errors/index.js';
import { deleteRedisKeys, REDIS_URL } from '../helpers/coordinated-producers.js';
import { waitFor } from '../helpers/emulators.js';
import { catchLogs, uniquePrefix } from '../helpers/redis-fixtures.js';

const dirs: string[] = [];
const prefixes: string[] = [];
afterAll(async () => {
  for (const d of dirs) await rm(d, { recursive: true, force: true });
  await deleteRedisKeys(prefixes);
});

const base = { primary: { kind: 'kinesis', region: 'us-east-1', stream: 's', endpoint: 'http://127.0.0.1:1' }, spool: { kind: 'disk', dir: '/tmp/unused' } };

function problem(extra: Record<string, unknown>): string {
  try {
    parseBusConfig({ ...base, ...extra } as BusConfigInput, defaultRegistry);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as Error).message;
  }
  throw new Error('the configuration was accepted');
}

describe('coordination and dedupe configuration', () => {
  it('names the field and the fix', () => {
    expect(problem({ coordination: { kind: 'zookeeper', url: REDIS_URL } })).toMatch(/coordination\.kind must be "redis"/);
    expect(problem({ coordination: { kind: 'redis' } })).toMatch(/coordination\.url is required/);
    expect(problem({ coordination: { kind: 'redis', url: 'http://127.0.0.1:6379' } })).toMatch(/coordination\.url must start with redis:\/\//);
    expect(problem({ coordination: { kind: 'redis', url: REDIS_URL, leaseMs: 10 } })).toMatch(/coordination\.leaseMs must be at least 1000/);
    expect(problem({ coordination: { kind: 'redis', url: REDIS_URL, lease: 10 } })).toMatch(/did you mean "leaseMs"/);
    expect(problem({ dedupe: { kind: 'redis', url: REDIS_URL, ttlMs: 0 } })).toMatch(/dedupe\.ttlMs must be a positive number/);
    expect(parseBusConfig({ ...base, coordination: { kind: 'redis', url: REDIS_URL } } as BusConfigInput, defaultRegistry).coordination).toEqual({ kind: 'redis', url: REDIS_URL });
  });

  it('warns at start when the dedupe window is shorter than a day', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'spillway-coord-config-'));
    dirs.push(dir);
    const keyPrefix = `${uniquePrefix('dedupe-ttl')}:`;
    prefixes.push(keyPrefix);
    const { logger, lines } = catchLogs();
    const bus = await createBus({ ...base, spool: { kind: 'disk', dir }, verifyStreams: false, reconciler: { enabled: false }, dedupe: { kind: 'redis', url: REDIS_URL, keyPrefix, ttlMs: 60_000 } } as BusConfigInput, { logger });
    const events: string[] = [];
    bus.events.on('config.warning', (w) => events.push(w.field));
    await waitFor(async () => events.includes('dedupe.ttlMs'), { timeoutMs: 5_000, intervalMs: 10, message: 'the config.warning event' });
    await bus.close();
    expect(lines.some((l) => l.field === 'dedupe.ttlMs' && String(l.msg).includes('at least 86400000'))).toBe(true);
  });
});
