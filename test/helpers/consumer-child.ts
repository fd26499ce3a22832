/**
 * Child process for the consumer group test: one consumer of a group whose
 * checkpoints, dedupe window and shard leases are in Redis. Its handler
 * appends each id to a Redis list (`<prefix>handled`), so what was handled
 * survives the process being killed.
 * Usage: node --import tsx consumer-child.ts <endpoint> <stream> <stateDir> <keyPrefix> <takeoverMs>
 *
 * stdout: `start <shard>` / `stop <shard> <reason>` as leases move, `ready` once running.
 */
import { Redis } from 'ioredis';
import { pino } from 'pino';
import { createConsumer } from '../../src/consumer/index.js';
import { FAKE_CREDENTIALS } from '../../src/drill/kinesis-admin.js';

const [endpoint, stream, dir, keyPrefix, takeover] = process.argv.slice(2) as [string, string, string, string, string];
const url = 'redis://127.0.0.1:6379';
const redis = new Redis(url);
const consumer = await createConsumer(
  { primary: { kind: 'kinesis', region: 'us-east-1', stream, endpoint, credentials: FAKE_CREDENTIALS }, spool: { kind: 'disk', dir } },
  { group: 'group', checkpoints: { kind: 'redis', url, keyPrefix }, takeoverMs: Number(takeover), idlePollMs: 50, shardRefreshMs: 500, concurrency: 4, maxInFlight: 50, logger: pino({ level: 'silent' }) },
);
consumer.events.on('consumer.shardStart', ({ shardId }) => process.stdout.write(`start ${shardId}\n`));
consumer.events.on('consumer.shardStop', ({ shardId, reason }) => process.stdout.write(`stop ${shardId} ${reason}\n`));
process.on('SIGTERM', () => void consumer.close().then(() => redis.quit()));
process.stdout.write('ready\n');
await consumer.run(async (record) => {
  await redis.rpush(`${keyPrefix}:handled`, record.id);
});
