/**
 * Id claims in the shared Redis (SPILLWAY_REDIS_URL, else 127.0.0.1:6379; a unique key prefix, removed
 * after): two workers of one group with the same records in hand (as in a
 * lease take-over, or a primary and a secondary copy) handle each id once,
 * even when records wait in the dispatcher far longer than the claim time.
 */
import { PutRecordsCommand } from '@aws-sdk/client-kinesis';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createMemoryCheckpointStore } from '../../adapters/memory/index.js';
import { createRedisDedupeStore } from '../../adapters/redis/redis-dedupe.js';
import type { BusConfigInput } from '../../src/config/schema.js';
import { createConsumer } from '../../src/consumer/index.js';
import { FAKE_CREDENTIALS } from '../../src/drill/kinesis-admin.js';
import { silentLogger } from '../helpers/bus-parts.js';
import { uniqueName, useKinesisEmulator, waitFor } from '../helpers/emulators.js';
import { useSharedRedis } from '../helpers/redis-fixtures.js';

const RECORDS = 60;
const CLAIM_MS = 1_000;
const HANDLER_MS = 50; // far below the claim time; the 60 records of one key take 3 s in all

describe('consumer id claims (kinesalite + Redis)', () => {
  const kinesis = useKinesisEmulator('kinesalite');
  const { admin: redis } = useSharedRedis();

  it('keeps a claim while its record waits in the dispatcher: two workers with the same records handle each id once', async () => {
    const stream = await kinesis.createStream(1);
    const dir = await mkdtemp(join(tmpdir(), 'spillway-consumer-claims-'));
    const prefix = `${uniqueName('spillway-consumer-claims')}:seen:`;
    const Records = Array.from({ length: RECORDS }, (_, i) => ({ PartitionKey: 'one-key', Data: Buffer.from(`r${i}`) }));
    expect((await kinesis.client.send(new PutRecordsCommand({ StreamName: stream, Records }))).FailedRecordCount ?? 0).toBe(0);
    const config: BusConfigInput = {
      primary: { kind: 'kinesis', region: 'us-east-1', stream, endpoint: kinesis.endpoint, credentials: FAKE_CREDENTIALS },
      spool: { kind: 'disk', dir: join(dir, 'spool') },
      reconciler: { enabled: false },
    };
    const handledBy = new Map<string, string[]>();
    const settled = { A: 0, B: 0 }; // records each worker handled or dropped as a duplicate
    const worker = async (name: 'A' | 'B') => {
      const consumer = await createConsumer(
        { ...config, stateDir: join(dir, `state-${name}`) },
        {
          group: 'claims',
          workerId: name,
          takeoverMs: CLAIM_MS,
          idlePollMs: 20,
          concurrency: 1,
          logger: silentLogger,
          // Each worker reads the whole shard (its own checkpoints); only the dedupe window is shared.
          stores: { checkpoints: createMemoryCheckpointStore(), dedupe: createRedisDedupeStore({ redis, prefix, owner: name }) },
        },
      );
      consumer.events.on('consumer.duplicate', () => settled[name]++);
      void consumer.run(async (record) => {
        handledBy.set(record.id, [...(handledBy.get(record.id) ?? []), name]);
        await new Promise((resolve) => setTimeout(resolve, HANDLER_MS));
        settled[name]++;
      });
      return consumer;
    };
    const a = await worker('A');
    try {
      await waitFor(() => handledBy.size > 0, { timeoutMs: 10_000, message: 'A to start handling' });
      const b = await worker('B'); // reads the same records a moment later, all claimed by A
      try {
        await waitFor(() => settled.A >= RECORDS && settled.B >= RECORDS, { timeoutMs: 20_000, message: `both workers to settle all ${RECORDS} records` });
      } finally {
        await b.close();
      }
    } finally {
      await a.close();
      const keys = await redis.keys(`${prefix}*`);
      if (keys.length > 0) await redis.del(...keys);
      await rm(dir, { recursive: true, force: true });
    }
    // In: 60 records. Out: 60 handler calls, each id by one worker.
    const twice = [...handledBy.entries()].filter(([, workers]) => workers.length > 1);
    expect(twice).toEqual([]);
    expect(handledBy.size).toBe(RECORDS);
  }, 40_000);
});
