/**
 * The consumer's own CPU per record, without an emulator: `GetRecords` is
 * answered from memory (`KinesisClient.prototype.send` is replaced for the
 * run and put back after), so what is measured is decoding, the dedupe window
 * on disk, per-key dispatch, seen-marks and checkpoints, and not the SDK's
 * HTTP and JSON work nor a stand-in server's. No baseline: a raw loop over the
 * same answers does next to nothing. `bench/consumer-throughput.ts` is the
 * end-to-end comparison.
 *
 *   npx tsx bench/consumer-cpu.ts
 *   BENCH_CPU_RECORDS=100000 BENCH_ROUNDS=5 BENCH_READ_LIMIT=1000 BENCH_PAYLOAD_BYTES=200
 */
import { GetRecordsCommand, GetShardIteratorCommand, KinesisClient, ListShardsCommand, type _Record } from '@aws-sdk/client-kinesis';
import { createStamper, encodeEnvelope } from '../src/envelope/index.js';
import { consumerRead } from './consumer-throughput.js';
import { envInt, fmt, jsonBytes, median, runIfMain, table, timeLimitMs, watchdog } from './lib.js';

const SHARDS = 4;

/** Envelopes as GetRecords returns them, dealt over the shards. */
function makeShards(records: number, payloadBytes: number): _Record[][] {
  const stamp = createStamper();
  const shards: _Record[][] = Array.from({ length: SHARDS }, () => []);
  const base = 49_600_000_000_000_000_000_000_000_000_000_000_000_000_000_000_000_000_000n;
  for (let i = 0; i < records; i++) {
    const e = stamp({ partitionKey: `customer-${i % 1000}`, data: jsonBytes(i, payloadBytes) });
    const data = encodeEnvelope(e);
    (shards[i % SHARDS] as _Record[]).push({
      Data: new Uint8Array(data.buffer, data.byteOffset, data.byteLength),
      PartitionKey: e.partitionKey,
      SequenceNumber: String(base + BigInt(i)),
      ApproximateArrivalTimestamp: new Date(),
    });
  }
  return shards;
}

/** Answer the consumer's three calls from `shards`, one event-loop turn later (as a socket would). */
function answerFrom(shards: _Record[][]): (command: unknown) => Promise<unknown> {
  return async (command) => {
    await new Promise((resolve) => setImmediate(resolve));
    if (command instanceof ListShardsCommand) return { Shards: shards.map((_, i) => ({ ShardId: `shardId-${String(i).padStart(12, '0')}` })) };
    if (command instanceof GetShardIteratorCommand) return { ShardIterator: `${Number(command.input.ShardId?.slice(8))}:0` };
    if (command instanceof GetRecordsCommand) {
      const [shard, at] = (command.input.ShardIterator ?? '0:0').split(':').map(Number) as [number, number];
      const all = shards[shard] as _Record[];
      const page = all.slice(at, at + (command.input.Limit ?? 10_000)).map((r) => ({ ...r })); // fresh objects, as the SDK parses them
      return { Records: page, NextShardIterator: `${shard}:${at + page.length}`, MillisBehindLatest: at + page.length >= all.length ? 0 : 1_000 };
    }
    throw new Error(`consumer-cpu answers ListShards, GetShardIterator and GetRecords, not ${(command as object).constructor.name}`);
  };
}

/** Run the benchmark; `ok` when every round handled every record once. */
export async function main(): Promise<{ ok: boolean }> {
  const records = envInt('BENCH_CPU_RECORDS', 100_000);
  const rounds = envInt('BENCH_ROUNDS', 5);
  const readLimit = envInt('BENCH_READ_LIMIT', 1_000);
  const disarm = watchdog('consumer-cpu', timeLimitMs());
  const original = KinesisClient.prototype.send;
  (KinesisClient.prototype as { send: unknown }).send = answerFrom(makeShards(records, envInt('BENCH_PAYLOAD_BYTES', 200)));
  const cpu: number[] = [];
  const rates: number[] = [];
  let ok = true;
  try {
    for (let round = 0; round < rounds; round++) {
      // The endpoint is never reached: the client's send answers from memory.
      const read = await consumerRead('http://127.0.0.1:9', records, round, readLimit);
      ok &&= read.seen === records && read.unique === records;
      cpu.push(read.cpuUs / records);
      rates.push((records / read.ms) * 1000);
    }
  } finally {
    KinesisClient.prototype.send = original;
    disarm();
  }
  console.log(
    table(`Consumer CPU per record: ${fmt(records)} records from memory, ${rounds} rounds (median), readLimit ${fmt(readLimit)}`, ['measure', 'value'], [
      ['CPU µs per record (user + system)', fmt(median(cpu), 1)],
      ['records/s', fmt(median(rates))],
    ]),
  );
  return { ok };
}

runIfMain(import.meta.url, main);
