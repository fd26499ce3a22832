/**
 * The ioredis client of a spool, configured to fail fast: no offline queue
 * (a command while disconnected fails at once), no retry of a command whose
 * connection dropped (its fate is then unknown, and the caller hears so), a
 * bounded time for every command, and reconnection in the background with a
 * capped backoff so the spool recovers by itself when Redis comes back.
 */
import { Cluster, Redis, type ClusterOptions, type RedisOptions } from 'ioredis';
import type { ConnectionOptions } from 'node:tls';
import { ConfigError } from '../../src/errors/index.js';
import { spoolKeys } from './redis-keys.js';

/** How to reach the server. */
export interface RedisConnectionOptions {
  /** `redis://[user:password@]host:port[/db]` or `rediss://…` (TLS). */
  url: string;
  /** TLS options passed to ioredis (`true` = TLS with the system's CAs; a `rediss://` url turns TLS on too). */
  tls?: boolean | ConnectionOptions;
  /** The url names one node of a Redis Cluster. */
  cluster?: boolean;
  /** Longest a command may take before it fails with a TransientError. Default 2000 ms. */
  commandTimeoutMs?: number;
  /** Longest a connection attempt may take. Default 2000 ms. */
  connectTimeoutMs?: number;
  /** Longest pause between reconnection attempts. Default 2000 ms. */
  maxReconnectDelayMs?: number;
}

/** Either client kind; the spool uses only what both have. */
export type RedisClient = Redis | Cluster;

/** Host and port of the url, for ids and messages (never the password). */
export function redisAddress(url: string, field = 'url'): { host: string; port: number; tls: boolean } {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new ConfigError(`${field}: ${JSON.stringify(redact(url))} is not a Redis url; use one like redis://localhost:6379 or rediss://user:password@host:6380`, { field });
  }
  if (parsed.protocol !== 'redis:' && parsed.protocol !== 'rediss:') {
    throw new ConfigError(`${field}: the url must start with redis:// or rediss://, got ${parsed.protocol}//`, { field });
  }
  return { host: parsed.hostname || 'localhost', port: Number.parseInt(parsed.port || '6379', 10), tls: parsed.protocol === 'rediss:' };
}

/** The url with any password replaced by `***`. */
export function redact(url: string): string {
  return url.replace(/\/\/([^:@/]*):[^@/]*@/, '//$1:***@');
}

/** ioredis options shared by a single client and a cluster's node clients. */
export function clientOptions(options: RedisConnectionOptions): RedisOptions {
  const maxDelay = options.maxReconnectDelayMs ?? 2_000;
  const tls = options.tls === true ? {} : options.tls === false ? undefined : options.tls;
  return {
    lazyConnect: true,
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    autoResendUnfulfilledCommands: false,
    commandTimeout: options.commandTimeoutMs ?? 2_000,
    connectTimeout: options.connectTimeoutMs ?? 2_000,
    retryStrategy: (times: number) => Math.min(50 * 2 ** Math.min(times, 10), maxDelay),
    ...(tls === undefined ? {} : { tls }),
  };
}

const lastErrors = new WeakMap<RedisClient, string>();

/**
 * The last error of a connection attempt of `client` (e.g. `connect
 * ECONNREFUSED 127.0.0.1:6379`, `getaddrinfo ENOTFOUND cache.internal`) since
 * it was last ready; undefined while connected or before any attempt failed.
 * ioredis reports the cause of a failed connection only through `error`
 * events, while a command sent meanwhile fails with a message of its own
 * (no offline queue) that does not say why.
 */
function lastConnectionError(client: RedisClient): string | undefined {
  return lastErrors.get(client);
}

/** `{ connectionError }` for classifyRedisError's context, when `client` has one ({@link lastConnectionError}). */
export function connectionContext(client: RedisClient): { connectionError?: string } {
  const connectionError = lastConnectionError(client);
  return connectionError === undefined ? {} : { connectionError };
}

function trackConnectionErrors(client: RedisClient): RedisClient {
  const note = (error: Error & { lastNodeError?: Error }): void => {
    lastErrors.set(client, (error.lastNodeError ?? error).message);
  };
  client.on('error', note);
  client.on('node error', note);
  // A server that shuts down closes the socket without an error; the next connection attempt says more.
  client.on('close', () => {
    if (!lastErrors.has(client)) lastErrors.set(client, 'the connection closed');
  });
  client.on('ready', () => lastErrors.delete(client));
  return client;
}

/** Build (without connecting) the client for `options`; it remembers its last connection error ({@link connectionContext}). */
export function createRedisClient(options: RedisConnectionOptions): RedisClient {
  return trackConnectionErrors(buildClient(options));
}

function buildClient(options: RedisConnectionOptions): RedisClient {
  const base = clientOptions(options);
  if (options.cluster !== true) return new Redis(options.url, base);
  const { host, port } = redisAddress(options.url);
  const parsed = new URL(options.url);
  const redisOptions: RedisOptions = {
    ...base,
    ...(parsed.username ? { username: decodeURIComponent(parsed.username) } : {}),
    ...(parsed.password ? { password: decodeURIComponent(parsed.password) } : {}),
    ...(parsed.protocol === 'rediss:' && base.tls === undefined ? { tls: {} } : {}),
  };
  const clusterOptions: ClusterOptions = {
    lazyConnect: true,
    enableOfflineQueue: false,
    maxRedirections: 4,
    clusterRetryStrategy: base.retryStrategy as (times: number) => number,
    redisOptions,
  };
  return new Cluster([{ host, port }], clusterOptions);
}

/** Resolve once the client is ready, or reject after `timeoutMs` with the last connection error. */
export function waitReady(client: RedisClient, timeoutMs: number): Promise<void> {
  if (client.status === 'ready') return Promise.resolve();
  return new Promise((resolve, reject) => {
    let last: Error | undefined;
    const onError = (error: Error): void => {
      last = error;
    };
    const done = (error?: Error): void => {
      clearTimeout(timer);
      client.off('ready', onReady);
      client.off('error', onError);
      if (error === undefined) resolve();
      else reject(error);
    };
    const onReady = (): void => done();
    const timer = setTimeout(() => done(last ?? new Error(`not connected after ${timeoutMs} ms`)), timeoutMs);
    client.on('ready', onReady);
    client.on('error', onError);
    if (client.status === 'wait') client.connect().catch(onError);
  });
}

/** Target id of a spool: `redis:<host>:<port>/<stream key>`. */
export function redisSpoolIdFor(url: string, keyPrefix: string, field = 'url'): string {
  const { host, port } = redisAddress(url, field);
  return `redis:${host}:${port}/${spoolKeys(keyPrefix).stream}`;
}
