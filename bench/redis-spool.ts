/**
 * Redis spool appends against raw ioredis XADDs of the same bytes on the same
 * private redis-server, with AOF `appendfsync always` and `everysec`, in one run.
 *
 * - A: one record per call, awaited one after the other: `spool.append([e])` vs `XADD`;
 * - B: N single-record appends issued at once: the spool vs one pipeline of N `XADD`s
 *   (what `redis-benchmark -P` measures);
 * - C: batches of 100: `spool.append(batch)` (one Lua script) vs a pipeline of 100 `XADD`s per round trip.
 *
 * The raw side writes the very bytes the spool stores (encoded envelopes, field `e`, plus the
 * partition key as `k`). A reference line runs `redis-benchmark -P 16` with XADD of the same size.
 *
 *   npx tsx bench/redis-spool.ts
 *   BENCH_REDIS_RECORDS=2000 BENCH_REDIS_ROUNDS=3 BENCH_PAYLOAD_BYTES=200
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { Redis } from 'ioredis';
import { createRedisSpool, type RedisSpool } from '../adapters/redis/index.js';
import { createStamper, encodeEnvelope, type Envelope } from '../src/envelope/index.js';
import { startRedisServer, type RedisServer } from '../test/helpers/redis-server.js';
import { envInt, fmt, jsonPayload, median, quietLogger, ratio, rotate, runIfMain, table, timeLimitMs, watchdog } from './lib.js';

const BATCH = 100;
type Mode = 'always' | 'everysec';
type Step = 'rawA' | 'spoolA' | 'rawB' | 'spoolB' | 'rawC' | 'spoolC';

/** Sizes for one run. */
export interface RedisSpoolBenchOptions {
  records: number;
  rounds: number;
  payloadBytes: number;
}

function optionsFromEnv(): RedisSpoolBenchOptions {
  return { records: envInt('BENCH_REDIS_RECORDS', 2_000), rounds: envInt('BENCH_REDIS_ROUNDS', envInt('BENCH_ROUNDS', 3)), payloadBytes: envInt('BENCH_PAYLOAD_BYTES', 200) };
}

async function rawRun(client: Redis, key: string, envelopes: readonly Envelope[], mode: 'sequential' | 'pipeline' | 'batches'): Promise<number> {
  const args = envelopes.map((e) => [Buffer.from(encodeEnvelope(e)), e.partitionKey] as const);
  const started = performance.now();
  if (mode === 'sequential') {
    for (const [e, k] of args) await client.xadd(key, '*', 'e', e, 'k', k);
  } else {
    const size = mode === 'pipeline' ? args.length : BATCH;
    for (let from = 0; from < args.length; from += size) {
      const pipe = client.pipeline();
      for (const [e, k] of args.slice(from, from + size)) pipe.xadd(key, '*', 'e', e, 'k', k);
      await pipe.exec();
    }
  }
  return performance.now() - started;
}

async function spoolRun(spool: RedisSpool, envelopes: readonly Envelope[], mode: 'sequential' | 'pipeline' | 'batches'): Promise<number> {
  const started = performance.now();
  if (mode === 'sequential') for (const e of envelopes) await spool.append([e]);
  else if (mode === 'pipeline') await Promise.all(envelopes.map((e) => spool.append([e])));
  else for (let from = 0; from < envelopes.length; from += BATCH) await spool.append(envelopes.slice(from, from + BATCH));
  return performance.now() - started;
}

/** `redis-benchmark -P 16` XADD of `bytes`-byte values: requests/s, or NaN when the tool is missing. */
async function redisBenchmark(port: number, records: number, bytes: number): Promise<number> {
  try {
    const { stdout } = await promisify(execFile)('redis-benchmark', ['-h', '127.0.0.1', '-p', String(port), '-n', String(records * 5), '-P', '16', '-q', 'XADD', '{rb}:s', '*', 'e', 'x'.repeat(bytes)]);
    return Number(/([\d.]+) requests per second/.exec(stdout)?.[1] ?? Number.NaN);
  } catch {
    return Number.NaN;
  }
}

/** One fsync mode: a fresh server, every step `rounds` times in rotating order; median records/s per step. */
async function runMode(mode: Mode, options: RedisSpoolBenchOptions): Promise<{ rates: Record<Step, number>; reference: number }> {
  const server: RedisServer = await startRedisServer({ appendfsync: mode });
  const client = new Redis(server.url);
  const spool = await createRedisSpool({ url: server.url, keyPrefix: 'bench', durability: mode === 'always' ? 'aof' : 'write', logger: quietLogger, commandTimeoutMs: 30_000 });
  try {
    const stamp = createStamper();
    let serial = 0;
    const envelopesOf = (n: number): Envelope[] => Array.from({ length: n }, (_, i) => stamp({ partitionKey: `key-${i % 64}`, data: jsonPayload(serial++, options.payloadBytes) }));
    const n = options.records;
    const seqN = Math.max(BATCH, Math.floor(n / 4));
    const steps: Record<Step, () => Promise<[number, number]>> = {
      rawA: async () => [await rawRun(client, `{raw}:${serial}`, envelopesOf(seqN), 'sequential'), seqN],
      spoolA: async () => [await spoolRun(spool, envelopesOf(seqN), 'sequential'), seqN],
      rawB: async () => [await rawRun(client, `{raw}:${serial}`, envelopesOf(n), 'pipeline'), n],
      spoolB: async () => [await spoolRun(spool, envelopesOf(n), 'pipeline'), n],
      rawC: async () => [await rawRun(client, `{raw}:${serial}`, envelopesOf(n), 'batches'), n],
      spoolC: async () => [await spoolRun(spool, envelopesOf(n), 'batches'), n],
    };
    const samples: Record<Step, number[]> = { rawA: [], spoolA: [], rawB: [], spoolB: [], rawC: [], spoolC: [] };
    for (let round = 0; round < options.rounds; round += 1) {
      for (const step of rotate(Object.keys(steps) as Step[], round)) {
        const [ms, count] = await steps[step]();
        samples[step].push((count * 1000) / ms);
      }
    }
    const rates = Object.fromEntries(Object.entries(samples).map(([k, v]) => [k, median(v)])) as Record<Step, number>;
    return { rates, reference: await redisBenchmark(server.port, n, encodeEnvelope(envelopesOf(1)[0]!).length) };
  } finally {
    await spool.close();
    client.disconnect();
    await server.cleanup();
  }
}

/** Run the benchmark and print its table. */
export async function main(options: RedisSpoolBenchOptions = optionsFromEnv()): Promise<{ ok: boolean }> {
  const disarm = watchdog('redis-spool', timeLimitMs());
  try {
    console.log(`redis-spool: ${fmt(options.records)} records per step (A: a quarter), ${options.rounds} rounds, ~${options.payloadBytes} B JSON, private redis-server per fsync mode`);
    const rows: string[][] = [];
    for (const mode of ['always', 'everysec'] as const) {
      const { rates, reference } = await runMode(mode, options);
      rows.push([`${mode}  A sequential single`, fmt(rates.spoolA), fmt(rates.rawA), ratio(rates.spoolA, rates.rawA)]);
      rows.push([`${mode}  B concurrent single`, fmt(rates.spoolB), fmt(rates.rawB), ratio(rates.spoolB, rates.rawB)]);
      rows.push([`${mode}  C batches of ${BATCH}`, fmt(rates.spoolC), fmt(rates.rawC), ratio(rates.spoolC, rates.rawC)]);
      rows.push([`${mode}  redis-benchmark -P 16 XADD`, '', fmt(reference), '']);
    }
    console.log(table('Redis spool appends vs raw XADD (records/s, median of rounds)', ['appendfsync / step', 'spool', 'raw XADD', 'spool/raw'], rows));
    return { ok: true };
  } finally {
    disarm();
  }
}

runIfMain(import.meta.url, () => main());
