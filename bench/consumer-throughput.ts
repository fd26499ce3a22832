/**
 * Consumer throughput: records/s handed to a handler by spillway's consumer
 * (dedupe window on disk, checkpoints, per-key dispatch) against the raw AWS
 * SDK `GetRecords` loop over the same kinesalite stream, in the same run.
 *
 * - baseline: per shard in parallel, `GetShardIterator` TRIM_HORIZON, then
 *   `GetRecords` with the same Limit as the consumer's `readLimit` until every
 *   record has been seen: the same calls the consumer makes (one reader per
 *   shard, all shards at once, one GetRecords in flight per shard);
 * - reference: the same loop with the largest Limit (10000), which kinesalite
 *   answers faster per record; shown beside the baseline, not the goal;
 * - candidate: `createConsumer` with a fresh group (disk checkpoints and dedupe
 *   in a temp dir) and a handler that counts, timed from `run()` until every
 *   record has been handled (opening and closing the stores are left out).
 *   Each candidate round also checks that no id came twice.
 *
 * Rounds rotate which side goes first; the median round is reported.
 *
 * The consumer reads with its default page size (1000 records per GetRecords, so it
 * handles one page while the next is read). The raw loops do not decode the records;
 * the consumer does (that is part of its work).
 *
 *   npx tsx bench/consumer-throughput.ts
 *   BENCH_RECORDS=20000 BENCH_ROUNDS=3 BENCH_SHARDS=4 BENCH_PAYLOAD_BYTES=200
 *   BENCH_READ_LIMIT=1000 BENCH_CONCURRENCY=16 BENCH_IN_FLIGHT=2000   (the consumer's options; the limit also the baseline's)
 */
import { GetRecordsCommand, GetShardIteratorCommand, type KinesisClient, PutRecordsCommand } from '@aws-sdk/client-kinesis';
import { listStreamShards } from '../adapters/kinesis/shard-source.js';
import { createConsumer } from '../src/consumer/index.js';
import { startKinesisEmulator } from '../src/drill/emulators.js';
import { createKinesisClientFor, ensureStream, FAKE_CREDENTIALS } from '../src/drill/kinesis-admin.js';
import { createStamper, encodeEnvelope } from '../src/envelope/index.js';
import { envInt, fmt, jsonPayload, makeTempDir, median, quietLogger, ratio, removeTempDir, rotate, runIfMain, table, timed, timeLimitMs, watchdog } from './lib.js';

const STREAM = 'consumer-bench';
/** The largest Limit GetRecords takes. */
const MAX_LIMIT = 10_000;

async function fill(client: KinesisClient, records: number, payloadBytes: number): Promise<void> {
  const stamp = createStamper();
  for (let i = 0; i < records; i += 500) {
    const batch = Array.from({ length: Math.min(500, records - i) }, (_, j) => stamp({ partitionKey: `customer-${(i + j) % 1000}`, data: jsonPayload(i + j, payloadBytes) }));
    const out = await client.send(new PutRecordsCommand({ StreamName: STREAM, Records: batch.map((e) => ({ Data: encodeEnvelope(e), PartitionKey: e.partitionKey })) }));
    if (out.FailedRecordCount) throw new Error(`${out.FailedRecordCount} records failed while filling the stream`);
  }
}

async function rawRead(client: KinesisClient, records: number, limit: number): Promise<number> {
  let seen = 0;
  const shards = await listStreamShards(client, STREAM);
  await Promise.all(
    shards.map(async (shard) => {
      let iterator = (await client.send(new GetShardIteratorCommand({ StreamName: STREAM, ShardId: shard.ShardId, ShardIteratorType: 'TRIM_HORIZON' }))).ShardIterator;
      while (iterator && seen < records) {
        const page = await client.send(new GetRecordsCommand({ ShardIterator: iterator, Limit: limit }));
        seen += page.Records?.length ?? 0;
        if ((page.Records?.length ?? 0) === 0 && page.MillisBehindLatest === 0) break;
        iterator = page.NextShardIterator;
      }
    }),
  );
  return seen;
}

/** Records/s from `run()` to the last record handled (opening and closing the stores are not counted). */
export async function consumerRead(endpoint: string, records: number, round: number, readLimit: number): Promise<{ seen: number; unique: number; ms: number; cpuUs: number }> {
  const dir = await makeTempDir('spillway-consumer-bench-');
  const ids: string[] = []; // checked for duplicates after the clock stops: the check is the benchmark's work, not the consumer's
  let seen = 0;
  const consumer = await createConsumer(
    { primary: { kind: 'kinesis', region: 'us-east-1', stream: STREAM, endpoint, credentials: FAKE_CREDENTIALS }, spool: { kind: 'disk', dir } },
    { group: `bench-${round}`, readLimit, idlePollMs: 20, concurrency: envInt('BENCH_CONCURRENCY', 16), maxInFlight: envInt('BENCH_IN_FLIGHT', 2_000), logger: quietLogger },
  );
  let done!: () => void;
  const all = new Promise<void>((resolve) => (done = resolve));
  const cpu = process.cpuUsage();
  const started = performance.now();
  const running = consumer.run((record) => {
    ids.push(record.id);
    if (++seen === records) done();
  });
  await all;
  const ms = performance.now() - started;
  const used = process.cpuUsage(cpu);
  await consumer.close();
  await running;
  await removeTempDir(dir);
  return { seen, unique: new Set(ids).size, ms, cpuUs: used.user + used.system };
}

/** Run the benchmark; `ok` when every side saw every record once. */
export async function main(): Promise<{ ok: boolean }> {
  const records = envInt('BENCH_RECORDS', 20_000);
  const rounds = envInt('BENCH_ROUNDS', 3);
  const disarm = watchdog('consumer-throughput', timeLimitMs());
  const emulator = await startKinesisEmulator({ engine: 'kinesalite' });
  const client = createKinesisClientFor(emulator.endpoint);
  let ok = true;
  try {
    await ensureStream(client, STREAM, envInt('BENCH_SHARDS', 4));
    await fill(client, records, envInt('BENCH_PAYLOAD_BYTES', 200));
    const limit = envInt('BENCH_READ_LIMIT', 1_000);
    const sides = limit === MAX_LIMIT ? (['raw', 'consumer'] as const) : (['raw', 'rawMax', 'consumer'] as const);
    const rates = { raw: [] as number[], rawMax: [] as number[], consumer: [] as number[] };
    const cpu = { raw: [] as number[], rawMax: [] as number[], consumer: [] as number[] };
    for (let round = 0; round < rounds; round++) {
      for (const side of rotate(sides, round)) {
        if (side === 'consumer') {
          const value = await consumerRead(emulator.endpoint, records, round, limit);
          ok &&= value.seen === records && value.unique === records;
          rates.consumer.push((value.seen / value.ms) * 1000);
          cpu.consumer.push(value.cpuUs / records);
        } else {
          const before = process.cpuUsage();
          const { ms, value } = await timed(() => rawRead(client, records, side === 'raw' ? limit : MAX_LIMIT));
          const used = process.cpuUsage(before);
          ok &&= value === records;
          rates[side].push((value / ms) * 1000);
          cpu[side].push((used.user + used.system) / records);
        }
      }
    }
    const raw = median(rates.raw);
    const rawMax = limit === MAX_LIMIT ? raw : median(rates.rawMax);
    const cons = median(rates.consumer);
    const us = (values: number[]): string => fmt(median(values), 1);
    const rows: string[][] = [[`raw SDK GetRecords loop, Limit ${fmt(limit)}`, fmt(raw), '1.00x', us(cpu.raw)]];
    if (limit !== MAX_LIMIT) rows.push([`raw SDK GetRecords loop, Limit ${fmt(MAX_LIMIT)} (reference)`, fmt(rawMax), ratio(rawMax, raw), us(cpu.rawMax)]);
    rows.push([`spillway consumer (dedupe on, disk), readLimit ${fmt(limit)}`, fmt(cons), ratio(cons, raw), us(cpu.consumer)]);
    console.log(
      table(`Consumer throughput: ${fmt(records)} records, ${rounds} rounds (median), kinesalite`, ['reader', 'records/s', 'vs raw', 'CPU µs/record'], rows),
    );
    console.log('CPU µs/record: this process (user + system) while the side ran, per record; the emulator runs in its own process.');
    const reference = limit === MAX_LIMIT ? '' : `; against the Limit ${fmt(MAX_LIMIT)} loop: ${ratio(cons, rawMax)}`;
    console.log(`goal: at least 0.80x of the raw loop at the same Limit; ${cons / raw >= 0.8 ? 'met' : 'NOT met'}${reference}${ok ? '' : '; COUNT CHECK FAILED'}`);
  } finally {
    client.destroy();
    await emulator.stop();
    disarm();
  }
  return { ok };
}

runIfMain(import.meta.url, main);
