/** `spillway spool inspect redis://…`: what a Redis spool holds, read-only. */
import { ConfigError } from '../../src/errors/index.js';
import { createRedisClient, redact, redisSpoolIdFor, waitReady, type RedisConnectionOptions } from './redis-connection.js';
import { entryFields } from './redis-entries.js';
import { classifyRedisError } from './redis-errors.js';
import { spoolKeys } from './redis-keys.js';

/** Options for {@link inspectRedisSpool}: how to connect, and which spool. */
export interface InspectRedisSpoolOptions extends Omit<RedisConnectionOptions, 'url'> {
  /** Default `spillway`. */
  keyPrefix?: string;
}

/** One reader of the spool's consumer group. */
export interface SpoolConsumerInfo {
  readonly name: string;
  /** Entries it leased and has not acknowledged. */
  readonly pending: number;
  /** Since its last read (XINFO CONSUMERS `idle`). */
  readonly idleMs: number;
}

/** What a Redis spool holds. */
export interface RedisSpoolInspection {
  readonly id: string;
  /** Entries not yet acknowledged (XLEN). */
  readonly records: number;
  /** Payload bytes those entries hold (the spool's counter: envelope bytes plus partition keys). */
  readonly bytes: number;
  /** Event time of the first and of the last spooled record (append order), ms since the epoch. */
  readonly oldestEventTime?: number;
  readonly newestEventTime?: number;
  /** Entries never handed to any reader (`lag`, Redis 7+; undefined before). */
  readonly unread?: number;
  readonly consumers: readonly SpoolConsumerInfo[];
}

/** Read what the spool at `url` holds. Changes nothing. */
export async function inspectRedisSpool(url: string, options: InspectRedisSpoolOptions = {}): Promise<RedisSpoolInspection> {
  const id = redisSpoolIdFor(url, options.keyPrefix ?? 'spillway');
  const keys = spoolKeys(options.keyPrefix ?? 'spillway');
  const client = createRedisClient({ ...options, url });
  client.on('error', () => undefined);
  try {
    await waitReady(client, options.connectTimeoutMs ?? 2_000);
    const [records, bytes, first, last] = await Promise.all([
      client.xlen(keys.stream),
      client.get(keys.bytes),
      client.xrangeBuffer(keys.stream, '-', '+', 'COUNT', 1),
      client.xrevrangeBuffer(keys.stream, '+', '-', 'COUNT', 1),
    ]);
    const groups = await infoList(client.call('XINFO', 'GROUPS', keys.stream));
    const group = groups.find((g) => g.name === keys.group);
    const consumers = group === undefined ? [] : await infoList(client.call('XINFO', 'CONSUMERS', keys.stream, keys.group));
    const oldest = eventTime(first[0]?.[1]);
    const newest = eventTime(last[0]?.[1]);
    const lag = group?.lag;
    return {
      id,
      records,
      bytes: Math.max(0, Number(bytes ?? 0)),
      ...(oldest === undefined ? {} : { oldestEventTime: oldest }),
      ...(newest === undefined ? {} : { newestEventTime: newest }),
      ...(typeof lag === 'number' ? { unread: lag } : {}),
      consumers: consumers.map((c) => ({ name: String(c.name), pending: Number(c.pending ?? 0), idleMs: Number(c.idle ?? 0) })),
    };
  } catch (error) {
    if (error instanceof ConfigError) throw error;
    throw classifyRedisError(error, { spool: `${id} (${redact(url)})`, operation: 'inspect', sent: false });
  } finally {
    client.disconnect();
  }
}

async function infoList(reply: Promise<unknown>): Promise<Array<Record<string, unknown>>> {
  let rows: unknown[];
  try {
    rows = (await reply) as unknown[];
  } catch (error) {
    if (/no such key/i.test((error as Error).message)) return [];
    throw error;
  }
  return rows.map((row) => {
    const flat = row as unknown[];
    const out: Record<string, unknown> = {};
    for (let i = 0; i + 1 < flat.length; i += 2) out[String(flat[i])] = flat[i + 1];
    return out;
  });
}

function eventTime(raw: Buffer[] | undefined): number | undefined {
  const t = raw === undefined ? undefined : entryFields(raw).get('t');
  const value = t === undefined ? Number.NaN : Number(t.toString('utf8'));
  return Number.isFinite(value) ? value : undefined;
}
