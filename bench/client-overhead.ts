/**
 * The client's own cost per record, with no network and no emulator: the raw
 * `KinesisClient` and spillway's bus both send through the real SDK stack
 * (endpoint rules, signing, middleware) to an in-process request handler that
 * answers PutRecords at once, so what is measured is CPU spent in this
 * process per record sent. The handler's own work (counting the records of a
 * request and writing an answer) is the same for every method.
 *
 * - raw: `PutRecords` with the caller's chunk of up to 500 records, 8 callers;
 * - bus: `bus.sendBatch` with the same chunks (stamped, enveloped, lanes);
 * - aggregated: the same on a bus whose target packs KPL aggregates.
 *
 * Rounds are interleaved (order rotates); medians are reported. A method whose
 * count at the handler differs from what its callers were told fails the run.
 *
 *   npx tsx bench/client-overhead.ts
 *   BENCH_FAKE_SIZES=100,1024 BENCH_FAKE_RECORDS=100000 BENCH_ROUNDS=5 BENCH_CALLERS=8 npx tsx bench/client-overhead.ts
 *   BENCH_ONLY=bus (only these of raw,bus,aggregated, e.g. to profile one)
 */
import { KinesisClient, PutRecordsCommand } from '@aws-sdk/client-kinesis';
import { HttpResponse } from '@smithy/core/transport';
import type { HttpRequest } from '@smithy/types';
import { createKinesisTarget } from '../adapters/kinesis/kinesis-target.js';
import { createPutRecordsClient, type PutRecordsRequestHandler } from '../adapters/kinesis/put-records-call.js';
import { createMemoryDedupeStore, createMemorySpool } from '../adapters/memory/index.js';
import { assembleBus, type Bus } from '../src/bus/bus.js';
import { FAKE_CREDENTIALS } from '../src/drill/kinesis-admin.js';
import { callersOver, envInt, fmt, jsonPayload, median, quietLogger, ratio, rotate, runIfMain, table } from './lib.js';

const STREAM = 'bench-overhead';
export type RequestHandlerOption = NonNullable<ConstructorParameters<typeof KinesisClient>[0]>['requestHandler'];
const MAX_RANGE = '340282366920938463463374607431768211455';

/** An SDK request handler that answers in process (shared with compare-builds.ts): PutRecords with success for every entry, ListShards with one shard. */
export function inProcessKinesis(): { handler: RequestHandlerOption; received: () => number } {
  let received = 0;
  let sequence = 0;
  const handler = {
    metadata: { handlerProtocol: 'http/1.1' },
    async handle(request: HttpRequest) {
      const target = String(request.headers['x-amz-target'] ?? '');
      let body: string;
      if (target.endsWith('.PutRecords')) {
        const b = request.body as string | Uint8Array;
        const text = b instanceof Uint8Array ? Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('utf8') : b;
        let n = 0;
        for (let at = text.indexOf('"PartitionKey"'); at >= 0; at = text.indexOf('"PartitionKey"', at + 1)) n++;
        received += n;
        const entries = new Array<string>(n);
        for (let i = 0; i < n; i++) entries[i] = `{"SequenceNumber":"${++sequence}","ShardId":"shardId-000000000000"}`;
        body = `{"FailedRecordCount":0,"Records":[${entries.join(',')}]}`;
      } else if (target.endsWith('.ListShards')) {
        body = `{"Shards":[{"ShardId":"shardId-000000000000","HashKeyRange":{"StartingHashKey":"0","EndingHashKey":"${MAX_RANGE}"},"SequenceNumberRange":{"StartingSequenceNumber":"1"}}]}`;
      } else body = '{"StreamDescriptionSummary":{"StreamStatus":"ACTIVE"}}';
      return { response: new HttpResponse({ statusCode: 200, headers: { 'content-type': 'application/x-amz-json-1.1' }, body: Buffer.from(body, 'utf8') }) };
    },
    updateHttpClientConfig() {},
    httpHandlerConfigs: () => ({}),
    destroy() {},
  };
  return { handler: handler as unknown as RequestHandlerOption, received: () => received };
}

export type Input = { partitionKey: string; data: Record<string, unknown> };

/** `n` records of `payloadBytes` over 256 keys, in chunks of 500 (one PutRecords call's worth). */
export function chunksOf(n: number, payloadBytes: number): Input[][] {
  const inputs: Input[] = Array.from({ length: n }, (_, i) => ({ partitionKey: `key-${i % 256}`, data: jsonPayload(i, payloadBytes) }));
  const chunks: Input[][] = [];
  for (let i = 0; i < n; i += 500) chunks.push(inputs.slice(i, i + 500));
  return chunks;
}

/**
 * One measured round: `n` records of `payloadBytes` in chunks of 500, sent by
 * `callers` concurrent callers through `send` (which answers how many of its
 * chunk were accepted); this process's CPU per record and the accepted count.
 */
export async function cpuRound(n: number, payloadBytes: number, callers: number, send: (chunk: Input[]) => Promise<number>): Promise<{ usPerRecord: number; acked: number }> {
  const chunks = chunksOf(n, payloadBytes);
  let acked = 0;
  const started = process.cpuUsage();
  await callersOver(chunks, callers, async (chunk) => {
    const accepted = await send(chunk);
    acked += accepted;
  });
  const used = process.cpuUsage(started);
  return { usPerRecord: (used.user + used.system) / n, acked };
}

/** One raw PutRecords call with `chunk`, the payload as JSON as the bus makes it; the records the answer accepted. */
export async function rawPutRecords(raw: KinesisClient, stream: string, chunk: readonly Input[]): Promise<number> {
  const out = await raw.send(new PutRecordsCommand({ StreamName: stream, Records: chunk.map((r) => ({ Data: Buffer.from(JSON.stringify(r.data), 'utf8'), PartitionKey: r.partitionKey })) }));
  return chunk.length - (out.FailedRecordCount ?? 0);
}
type Method = 'raw' | 'bus' | 'aggregated';

export async function main(): Promise<{ ok: boolean }> {
  const sizes = (process.env.BENCH_FAKE_SIZES ?? '100,1024').split(',').map(Number);
  const records = envInt('BENCH_FAKE_RECORDS', 100_000);
  const rounds = envInt('BENCH_ROUNDS', 5);
  const callers = envInt('BENCH_CALLERS', 8);
  const only = process.env.BENCH_ONLY?.split(',');
  const fake = inProcessKinesis();
  const client = (): KinesisClient => new KinesisClient({ region: 'us-east-1', credentials: FAKE_CREDENTIALS, requestHandler: fake.handler, maxAttempts: 1 });
  const raw = client();
  const busFor = (aggregate: boolean): Bus =>
    assembleBus({
      // The client the target builds for itself when given none (its middleware stack resolved once), on this handler.
      primary: createKinesisTarget({ region: 'us-east-1', stream: STREAM, client: createPutRecordsClient({ region: 'us-east-1', credentials: FAKE_CREDENTIALS, requestHandler: fake.handler as PutRecordsRequestHandler, maxAttempts: 1 }), omitProducer: true, aggregate }),
      spool: createMemorySpool(),
      dedupe: createMemoryDedupeStore(),
      logger: quietLogger,
      reconciler: { enabled: false },
    });
  const buses = { bus: busFor(false), aggregated: busFor(true) };
  console.log(`client-overhead: payloads ${sizes.join(', ')} B, ${callers} callers, ${rounds} rounds, an in-process Kinesis (no network)`);
  let ok = true;
  const rows: string[][] = [];
  try {
    for (const payloadBytes of sizes) {
      const count = Math.max(2_000, Math.floor((records * 100) / Math.max(100, payloadBytes)));
      const methods = (payloadBytes <= 1024 ? (['raw', 'bus', 'aggregated'] as Method[]) : (['raw', 'bus'] as Method[])).filter((m) => only === undefined || only.includes(m));
      const cpu: Record<string, number[]> = {};
      for (let round = -1; round < rounds; round++) {
        for (const m of rotate(methods, Math.max(0, round))) {
          const n = round < 0 ? Math.floor(count / 10) : count;
          const before = fake.received();
          const { usPerRecord, acked } = await cpuRound(n, payloadBytes, callers, async (chunk) =>
            m === 'raw' ? rawPutRecords(raw, STREAM, chunk) : (await buses[m].sendBatch(chunk)).filter((r) => r.ok && r.landedOn.tier === 'primary').length,
          );
          // Aggregates carry many records per entry: count the callers' acknowledgements there.
          const landed = m === 'aggregated' ? acked : fake.received() - before;
          if (acked !== n || landed !== n) {
            console.log(`check FAILED: ${m} at ${payloadBytes} B: ${acked} acknowledged, ${landed} received, ${n} sent`);
            ok = false;
          }
          if (round >= 0) (cpu[m] ??= []).push(usPerRecord);
        }
      }
      const base = median(cpu.raw ?? []);
      for (const m of methods) {
        const us = median(cpu[m] ?? []);
        rows.push([`${m} ${payloadBytes} B`, fmt(us, 2), (cpu[m] ?? []).map((x) => fmt(x, 2)).join(' / '), ratio(base, us)]);
      }
    }
    console.log(table(`CPU per record in this process (microseconds, median of ${rounds} interleaved rounds); "vs raw" is records per CPU-second against raw`, ['method', 'µs/record', 'per round', 'vs raw'], rows));
    console.log(ok ? 'check: every record sent was acknowledged and reached the handler' : 'check FAILED');
    return { ok };
  } finally {
    raw.destroy();
    await Promise.all([buses.bus.close(), buses.aggregated.close()]);
  }
}

runIfMain(import.meta.url, () => main());
