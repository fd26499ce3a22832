/**
 * What `spillway config check` asks of the Redis servers a configuration
 * shares between processes (the reconciler's coordination leases, the shared
 * dedupe store): does it answer, may we write a key under the configured
 * prefix, and does it keep anything across a restart.
 */
import { Redis } from 'ioredis';
import { redact } from '../../adapters/redis/redis-connection.js';
import { readPersistence } from '../../adapters/redis/redis-persistence.js';
import type { BusConfig } from './schema.js';

/** One shared Redis, checked. */
export interface CheckedRedis {
  field: 'coordination' | 'dedupe';
  url: string;
  reachable: boolean;
  writable: boolean;
  /** What was checked, or why it is not usable and what to do. */
  detail: string;
  /** Set when the server keeps nothing on disk and that weakens what this field promises. */
  warning?: string;
}

const WHAT = {
  coordination: { prefix: 'spillway:reconciler:', role: 'reconciler leases', lost: 'a restart of this Redis forgets who holds a drain lease, so two reconcilers may drain the same fallback at once until the leases expire (the dedupe store still drops the copies)' },
  dedupe: { prefix: 'spillway:dedupe:', role: 'the shared dedupe window', lost: 'a restart of this Redis forgets every drained id, so records replayed after it can reach the primary twice; turn on appendonly (or RDB snapshots) on it' },
} as const;

async function checkOne(field: 'coordination' | 'dedupe', url: string, keyPrefix: string | undefined, timeoutMs: number): Promise<CheckedRedis> {
  const shown = redact(url);
  const prefix = keyPrefix ?? WHAT[field].prefix;
  const redis = new Redis(url, { lazyConnect: true, connectTimeout: timeoutMs, commandTimeout: timeoutMs, maxRetriesPerRequest: 0, enableOfflineQueue: false, retryStrategy: () => null });
  let connectionError: Error | undefined;
  redis.on('error', (error: Error) => (connectionError ??= error)); // the socket's own error says more than the failed command
  try {
    try {
      await redis.connect();
      await redis.ping();
    } catch (error) {
      const why = (connectionError ?? (error as Error)).message;
      return { field, url: shown, reachable: false, writable: false, detail: `${field}.url ${shown} does not answer (${why}); start it, or fix the URL, or leave ${field} out` };
    }
    const key = `${prefix}config-check:${process.pid}`;
    try {
      await redis.set(key, '1', 'PX', 5_000);
      await redis.del(key);
    } catch (error) {
      return { field, url: shown, reachable: true, writable: false, detail: `${field}.url ${shown} refused a write under "${prefix}" (${(error as Error).message}); ${WHAT[field].role} need SET and DEL there (check the ACL user and maxmemory)` };
    }
    const info = await readPersistence(redis).catch(() => undefined);
    const keepsNothing = info !== undefined && !info.aofEnabled && info.save === '';
    return {
      field,
      url: shown,
      reachable: true,
      writable: true,
      detail: `answers; ${WHAT[field].role} can be written${info ? ` (Redis ${info.version.join('.')}, ${info.aofEnabled ? 'AOF on' : info.save === undefined ? 'AOF off' : info.save === '' ? 'no AOF, no snapshots' : 'RDB snapshots only'})` : ''}`,
      ...(keepsNothing ? { warning: `${field}.url ${shown} keeps nothing on disk: ${WHAT[field].lost}` } : {}),
    };
  } finally {
    redis.disconnect();
  }
}

/** Check the coordination and dedupe Redis of `config`, when it names them. */
export async function checkSharedRedis(config: BusConfig, timeoutMs: number): Promise<CheckedRedis[]> {
  const out: CheckedRedis[] = [];
  if (config.coordination) out.push(await checkOne('coordination', config.coordination.url, config.coordination.keyPrefix, timeoutMs));
  if (config.dedupe) out.push(await checkOne('dedupe', config.dedupe.url, config.dedupe.keyPrefix, timeoutMs));
  return out;
}
