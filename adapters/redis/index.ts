/**
 * The Redis spool: a durable spool for hosts whose local disk does not
 * outlive them (Lambda, containers). Register `redisSpoolDescriptor`.
 */
export { createRedisSpool, redisSpoolId, type RedisSpool, type RedisSpoolOptions } from './redis-spool.js';
export { redisSpoolDescriptor, redisSpoolSchema, type RedisSpoolConfig } from './redis-descriptor.js';
export { inspectRedisSpool, type InspectRedisSpoolOptions, type RedisSpoolInspection, type SpoolConsumerInfo } from './redis-inspect.js';
export { planDurability, type Durability, type DurabilityPlan, type PersistenceInfo } from './redis-persistence.js';
export { keySlot, spoolKeys, type RedisSpoolKeys } from './redis-keys.js';
export { classifyRedisError } from './redis-errors.js';
