/** The Redis spool: a durable spool for hosts whose local disk does not outlive them. */
export { createRedisSpool, redisSpoolId, type RedisSpool, type RedisSpoolOptions } from './redis-spool.js';
