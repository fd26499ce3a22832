/**
 * Two consumer processes in one group, coordinated by shard leases in the
 * real Redis at 127.0.0.1:6379 (a unique key prefix per test): shards are
 * split between them; one is killed with SIGKILL; its shards move to the
 * other after the takeover time, and every record is handled, each id once
 * (copies written again into the stream are dropped by the shared dedupe window)
 * except at most the few the killed process had in hand (handled, not yet marked seen) when it died.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { PutRecordsCommand } from '@aws-sdk/client-kinesis';
import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { createBus } from '../../src/bus/create-bus.js';
import { createConsumer } from '../../src/consumer/index.js';
import { FAKE_CREDENTIALS, readAllRecords } from '../../src/drill/kinesis-admin.js';
import { silentLogger } from '../helpers/bus-parts.js';
import { uniqueName, useKinesisEmulator, waitFor } from '../helpers/emulators.js';

const child = new URL('../helpers/consumer-child.ts', import.meta.url).pathname;
const TAKEOVER_MS = 1_500;
/**
 * The child's maxInFlight: at most this many of its records were being handled, or handled and not yet
 * marked seen, when it died; only those can be handled again by the survivor.
 */
const CHILD_MAX_IN_FLIGHT = 50;

interface Worker {
  proc: ChildProcess;
  owned: Set<string>;
  starts: Array<{ shard: string; at: number }>;
  exited: Promise<unknown>;
}

function startWorker(args: string[]): Worker {
  const proc = spawn(process.execPath, ['--import', 'tsx', child, ...args], { stdio: ['ignore', 'pipe', 'inherit'] });
  const w: Worker = { proc, owned: new Set(), starts: [], exited: once(proc, 'exit') };
  createInterface({ input: proc.stdout! }).on('line', (line) => {
    const [verb, shard] = line.split(' ');
    if (verb === 'start' && shard) {
      w.owned.add(shard);
      w.starts.push({ shard, at: Date.now() });
    }
    if (verb === 'stop' && shard) w.owned.delete(shard);
  });
  return w;
}

describe('consumer group (kinesalite + Redis)', () => {
  const kinesis = useKinesisEmulator('kinesalite');
  const redis = new Redis('redis://127.0.0.1:6379');
  afterAll(() => redis.quit());

  it('splits shards between two processes, moves a killed one’s shards, and handles every record', async () => {
    const stream = await kinesis.createStream(4);
    const prefix = uniqueName('spillway-consumer-test');
    const dir = await mkdtemp(join(tmpdir(), 'spillway-group-'));
    const bus = await createBus(
      { primary: { kind: 'kinesis', region: 'us-east-1', stream, endpoint: kinesis.endpoint, credentials: FAKE_CREDENTIALS }, spool: { kind: 'disk', dir: join(dir, 'bus') }, reconciler: { enabled: false } },
      { logger: silentLogger },
    );
    const sent: string[] = [];
    const send = async (n: number) => {
      for (const r of await bus.sendBatch(Array.from({ length: n }, (_, i) => ({ partitionKey: `k${i % 64}`, data: { i } })))) if (r.ok) sent.push(r.id);
    };
    const handled = async () => redis.lrange(`${prefix}:handled`, 0, -1);
    const workers = [0, 1].map((n) => startWorker([kinesis.endpoint, stream, join(dir, `w${n}`), prefix, String(TAKEOVER_MS)]));
    try {
      await send(400);
      // Both hold shards: two each once the first has given up its excess.
      await waitFor(() => workers.every((w) => w.owned.size === 2), { timeoutMs: 20_000, message: 'two shards per worker' });
      await send(400);
      // Copies of 100 records already in the stream (as a retried write or a drain would leave): dropped by id.
      const copies = (await readAllRecords(kinesis.client, stream)).slice(0, 100);
      await kinesis.client.send(new PutRecordsCommand({ StreamName: stream, Records: copies.map((r) => ({ Data: r.data, PartitionKey: r.partitionKey })) }));
      await waitFor(async () => (await handled()).length >= 300, { timeoutMs: 20_000, message: 'consumption under way' });

      // The victim is whichever holds shards now (under load a lease can move before the kill, too).
      await waitFor(() => workers.some((w) => w.owned.size > 0), { timeoutMs: 10_000, message: 'a worker holding shards' });
      const [victim, survivor] = (workers[0]!.owned.size >= workers[1]!.owned.size ? workers : [...workers].reverse()) as [Worker, Worker];
      const moved = new Set(victim.owned);
      expect(moved.size).toBeGreaterThan(0);
      const killedAt = Date.now();
      victim.proc.kill('SIGKILL');
      await victim.exited;
      await send(200);
      await waitFor(() => [...moved].every((s) => survivor.owned.has(s)), { timeoutMs: TAKEOVER_MS * 6, message: 'the killed worker’s shards to move' });
      const takeoverMs = Math.max(0, ...survivor.starts.filter((s) => moved.has(s.shard) && s.at >= killedAt).map((s) => s.at - killedAt));
      // Measured, not asserted tightly: a lease lapses TAKEOVER_MS after its last renewal, which came up to a third of that before the kill.
      console.log(`consumer group: shard takeover after SIGKILL took ${takeoverMs} ms (lease takeover ${TAKEOVER_MS} ms)`);

      await waitFor(async () => new Set(await handled()).size >= sent.length, { timeoutMs: 30_000, message: 'every record handled' });
      const ids = await handled();
      const counts = new Map<string, number>();
      for (const id of ids) counts.set(id, (counts.get(id) ?? 0) + 1);
      expect(sent.filter((id) => !counts.has(id))).toEqual([]);
      const twice = [...counts].filter(([, n]) => n > 1);
      console.log(`consumer group: ${ids.length} handled for ${sent.length} sent; ${twice.length} ids handled twice (in the killed process's hands when it died)`);
      expect(twice.length).toBeLessThanOrEqual(CHILD_MAX_IN_FLIGHT);
      expect(twice.every(([, n]) => n === 2)).toBe(true);
    } finally {
      for (const w of workers) if (w.proc.exitCode === null && w.proc.signalCode === null) w.proc.kill('SIGKILL');
      await Promise.all(workers.map((w) => w.exited));
      await bus.close();
      const keys = await redis.keys(`${prefix}*`);
      if (keys.length > 0) await redis.del(...keys);
      await rm(dir, { recursive: true, force: true });
    }
  }, 90_000);

  it('closing gracefully checkpoints and releases the leases: the next process of the group starts at once and sees only new records', async () => {
    const stream = await kinesis.createStream(2);
    const prefix = uniqueName('spillway-consumer-test');
    const dir = await mkdtemp(join(tmpdir(), 'spillway-group-'));
    const config = { primary: { kind: 'kinesis' as const, region: 'us-east-1', stream, endpoint: kinesis.endpoint, credentials: FAKE_CREDENTIALS }, spool: { kind: 'disk' as const, dir } };
    const bus = await createBus({ ...config, reconciler: { enabled: false } }, { logger: silentLogger });
    const options = { group: 'graceful', checkpoints: { kind: 'redis' as const, url: 'redis://127.0.0.1:6379', keyPrefix: prefix }, takeoverMs: 30_000, idlePollMs: 50, logger: silentLogger };
    const send = async (n: number) => (await bus.sendBatch(Array.from({ length: n }, (_, i) => ({ partitionKey: `k${i % 9}`, data: { i } })))).map((r) => (r.ok ? r.id : ''));
    try {
      const before = await send(200);
      const a = await createConsumer(config, options);
      const seenA: string[] = [];
      const runningA = a.run((r) => void seenA.push(r.id));
      await waitFor(() => seenA.length >= 200, { timeoutMs: 15_000, message: 'the first 200 records' });
      await a.close();
      await runningA;
      expect(seenA.sort()).toEqual([...before].sort());

      const after = await send(100);
      const b = await createConsumer(config, options);
      const seenB: string[] = [];
      const startedAt = Date.now();
      const runningB = b.run((r) => void seenB.push(r.id));
      await waitFor(() => seenB.length >= 100, { timeoutMs: 15_000, message: 'the 100 new records' });
      // Well inside the 30 s takeover: the leases were released, not left to lapse.
      expect(Date.now() - startedAt).toBeLessThan(10_000);
      let tips = 0;
      b.events.on('consumer.lag', ({ millisBehind }) => millisBehind === 0 && tips++);
      await waitFor(() => tips >= 4, { timeoutMs: 10_000, message: 'both shards read to their tip' });
      expect(seenB.sort()).toEqual([...after].sort());
      await b.close();
      await runningB;
    } finally {
      await bus.close();
      const keys = await redis.keys(`${prefix}*`);
      if (keys.length > 0) await redis.del(...keys);
      await rm(dir, { recursive: true, force: true });
    }
  }, 60_000);
});
