/** Options, defaults and checks of the Redis spool. */
import { hostname } from 'node:os';
import type { Logger } from 'pino';
import type { SpoolEvent } from '../../src/contracts/descriptor.js';
import type { SpoolCipher, SpoolStats } from '../../src/contracts/spool.js';
import type { Spool } from '../../src/contracts/spool.js';
import { ConfigError } from '../../src/errors/index.js';
import type { RedisConnectionOptions } from './redis-connection.js';
import { KEY_PREFIX_PATTERN } from './redis-keys.js';
import type { DurabilityPlan, Durability } from './redis-persistence.js';

/** Options for {@link createRedisSpool}. */
export interface RedisSpoolOptions extends RedisConnectionOptions {
  /** Hash tag of every key; buses sharing one Redis use different prefixes. Default `spillway`. */
  keyPrefix?: string;
  /** What a resolved append promises (see docs/redis-spool.md). Default `aof`. */
  durability?: Durability;
  /** Replicas `WAIT` must hear from with durability `replicas`. Default 1. */
  minReplicas?: number;
  /** Longest WAIT / WAITAOF blocks; must be below commandTimeoutMs. Default half of it. */
  waitTimeoutMs?: number;
  /** Most payload bytes held before appends fail with SpoolFullError. Default: no limit but the server's maxmemory. */
  maxBytes?: number;
  /** This reader's name in the consumer group: stable per process. Default `<hostname>:<pid>`. */
  consumer?: string;
  /** Pending entries idle this long are taken over from their (presumed dead) consumer. Default 60000 ms. */
  claimIdleMs?: number;
  /** Least time between two takeover attempts. Default 5000 ms. */
  claimEveryMs?: number;
  /** Encrypts entries at rest. */
  cipher?: SpoolCipher;
  logger?: Logger;
  /** Spool events (durability warnings). */
  onEvent?: (event: SpoolEvent) => void;
  /** Clock for the takeover pacing (tests). */
  now?: () => number;
}

/** The Redis spool: a {@link Spool} plus what it learnt about the server. */
export interface RedisSpool extends Spool {
  /** This reader's name in the consumer group. */
  readonly consumer: string;
  /** The stream key. */
  readonly key: string;
  /** How appends are confirmed on this server; undefined until the first successful connection. */
  readonly durability: DurabilityPlan | undefined;
  stats(): Promise<SpoolStats>;
}

/** Options after defaults. */
export type ResolvedRedisSpoolOptions = Required<
  Pick<RedisSpoolOptions, 'keyPrefix' | 'durability' | 'minReplicas' | 'waitTimeoutMs' | 'maxBytes' | 'consumer' | 'claimIdleMs' | 'claimEveryMs' | 'commandTimeoutMs' | 'now'>
> &
  RedisSpoolOptions;

/** Apply defaults and check every number; a bad one is a ConfigError naming the field. */
export function resolveOptions(options: RedisSpoolOptions, field = 'spool'): ResolvedRedisSpoolOptions {
  const commandTimeoutMs = options.commandTimeoutMs ?? 2_000;
  const resolved: ResolvedRedisSpoolOptions = {
    ...options,
    keyPrefix: options.keyPrefix ?? 'spillway',
    durability: options.durability ?? 'aof',
    minReplicas: options.minReplicas ?? 1,
    commandTimeoutMs,
    waitTimeoutMs: options.waitTimeoutMs ?? Math.max(1, Math.floor(commandTimeoutMs / 2)),
    maxBytes: options.maxBytes ?? 0,
    consumer: options.consumer ?? `${hostname()}:${process.pid}`,
    claimIdleMs: options.claimIdleMs ?? 60_000,
    claimEveryMs: options.claimEveryMs ?? 5_000,
    now: options.now ?? Date.now,
  };
  if (!KEY_PREFIX_PATTERN.test(resolved.keyPrefix)) {
    throw new ConfigError(`${field}.keyPrefix: ${JSON.stringify(resolved.keyPrefix)} is not usable; use 1 to 200 letters, digits or _ . : / - (no braces: the prefix becomes the hash tag)`, {
      field: `${field}.keyPrefix`,
    });
  }
  for (const name of ['minReplicas', 'waitTimeoutMs', 'commandTimeoutMs', 'maxBytes', 'claimIdleMs', 'claimEveryMs'] as const) {
    const value = resolved[name];
    if (!Number.isSafeInteger(value) || value < 0) throw new ConfigError(`${field}.${name} must be a whole number >= 0, got ${String(value)}`, { field: `${field}.${name}` });
  }
  if (resolved.waitTimeoutMs >= commandTimeoutMs) {
    throw new ConfigError(`${field}.waitTimeoutMs (${resolved.waitTimeoutMs}) must be below commandTimeoutMs (${commandTimeoutMs}), or WAIT would be cut off by the command timeout`, {
      field: `${field}.waitTimeoutMs`,
    });
  }
  if (resolved.consumer.length === 0) throw new ConfigError(`${field}.consumer must not be empty; leave it out for <hostname>:<pid>`, { field: `${field}.consumer` });
  return resolved;
}
