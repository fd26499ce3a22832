/** Checks consumer options before anything is opened; a bad one is a {@link ConfigError} naming the field. */
import { ConfigError } from '../errors/index.js';
import type { ConsumerOptions } from './types.js';

const POSITIVE_INTEGERS = ['concurrency', 'maxInFlight', 'dedupeTtlMs', 'takeoverMs', 'idlePollMs', 'shardRefreshMs', 'readLimit'] as const;

/** Throw a {@link ConfigError} for the first unusable option. */
export function validateConsumerOptions(options: ConsumerOptions): void {
  if (typeof options !== 'object' || options === null) throw new ConfigError('createConsumer needs options with at least a group, e.g. { group: "billing" }', { field: 'group' });
  if (typeof options.group !== 'string' || !/^[A-Za-z0-9_.-]{1,128}$/.test(options.group)) {
    throw new ConfigError(`group: "${String(options.group)}" is not a usable consumer group name; use 1-128 letters, digits, "_", "-" or "."`, { field: 'group' });
  }
  for (const field of POSITIVE_INTEGERS) {
    const value = options[field];
    if (value !== undefined && (!Number.isSafeInteger(value) || value <= 0)) {
      throw new ConfigError(`${field}: ${JSON.stringify(value)} is not a positive whole number; leave it out for the default`, { field });
    }
  }
  if (options.readLimit !== undefined && options.readLimit > 10_000) throw new ConfigError(`readLimit: ${options.readLimit} is over Kinesis' 10000 records per GetRecords`, { field: 'readLimit' });
  const retry = options.retry ?? {};
  for (const field of ['maxAttempts', 'baseDelayMs', 'maxDelayMs'] as const) {
    const value = retry[field];
    if (value !== undefined && (!Number.isSafeInteger(value) || value <= 0)) {
      throw new ConfigError(`retry.${field}: ${JSON.stringify(value)} is not a positive whole number; leave it out for the default`, { field: `retry.${field}` });
    }
  }
  const place = options.checkpoints;
  if (place?.kind === 'redis' && (typeof place.url !== 'string' || !/^rediss?:\/\//.test(place.url))) {
    throw new ConfigError(`checkpoints.url: ${JSON.stringify(place.url)} is not a Redis URL; use one like "redis://127.0.0.1:6379"`, { field: 'checkpoints.url' });
  }
  if (place !== undefined && place.kind !== 'disk' && place.kind !== 'redis') {
    throw new ConfigError(`checkpoints.kind: ${JSON.stringify((place as { kind?: unknown }).kind)} is not known; use "disk" or "redis"`, { field: 'checkpoints.kind' });
  }
}
