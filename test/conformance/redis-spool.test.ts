import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll } from 'vitest';
import { createRedisSpool, type RedisSpool } from '../../adapters/redis/index.js';
import { describeSpoolConformance } from './spool-conformance.js';

/** The shared Redis (keeps nothing on disk: reopening a client is what "durable" means here). */
const URL_6379 = process.env.SPILLWAY_REDIS_URL ?? 'redis://127.0.0.1:6379';
const admin = new Redis(URL_6379, { maxRetriesPerRequest: 1 });
afterAll(() => admin.quit());

describeSpoolConformance('redis', async ({ maxBytes }) => {
  const keyPrefix = `test-conf-${randomUUID()}`;
  const open = (): Promise<RedisSpool> =>
    createRedisSpool({ url: URL_6379, keyPrefix, durability: 'write', ...(maxBytes === undefined ? {} : { maxBytes }) });
  let spool: RedisSpool = await open();
  return {
    get spool() {
      return spool;
    },
    async reopen() {
      await spool.close();
      spool = await open();
      return spool;
    },
    async cleanup() {
      await spool.close();
      await admin.del(`{${keyPrefix}}:spool`, `{${keyPrefix}}:spool:bytes`);
    },
  };
}, { durable: true });
