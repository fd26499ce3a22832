/**
 * What KPL aggregation buys against a provisioned stream's per-shard limits:
 * the raw `KinesisClient`, the bus, and a bus whose Kinesis target packs
 * aggregates, all against the fake Kinesis of bench/fake-kinesis.ts in its
 * shard-limits mode (by default 4 shards, each 1,000 records/s and 1 MiB/s,
 * Kinesis' own per-shard write limits), in one run.
 *
 * - raw: 8 callers send chunks of 500 with `PutRecords` and send the entries
 *   that came back `ProvisionedThroughputExceededException` again after
 *   100 ms, until every record is in (what a raw producer has to do);
 * - bus / aggregated: 8 callers `bus.sendBatch` the same chunks; the bus backs
 *   off throttled records itself and must land every one on the primary. Each
 *   runs twice: with the default backoff (exponential with full jitter, 50 ms
 *   doubling to 2 s), and with `delivery.backoff: { baseMs: 100, capMs: 200 }`,
 *   a retry every 100-200 ms like the raw loop's.
 *
 * Records/s is records in the stream over the time to get them all there.
 * Rounds are interleaved and the median is reported; the fake's per-prefix
 * count must equal what each method was told.
 *
 *   npx tsx bench/aggregation-limits.ts
 *   BENCH_SHARDS=4 BENCH_SHARD_RECORDS=1000 BENCH_SHARD_BYTES=1048576 BENCH_ROUNDS=3 BENCH_PAYLOAD_BYTES=100 npx tsx bench/aggregation-limits.ts
 */
import { KinesisClient, PutRecordsCommand, type PutRecordsRequestEntry } from '@aws-sdk/client-kinesis';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import { createKinesisTarget } from '../adapters/kinesis/kinesis-target.js';
import { createMemoryDedupeStore, createMemorySpool } from '../adapters/memory/index.js';
import { assembleBus, type Bus } from '../src/bus/bus.js';
import { FAKE_CREDENTIALS } from '../src/drill/kinesis-admin.js';
import { startFakeKinesis } from './fake-kinesis.js';
import { callersOver, envInt, fmt, jsonPayload, median, quietLogger, ratio, rotate, runIfMain, table, timed, timeLimitMs, watchdog } from './lib.js';

const REGION = 'us-east-1';
const STREAM = 'bench-limits';
type Input = { partitionKey: string; data: Record<string, unknown> };
const METHODS = ['raw', 'bus', 'bus, retry 100-200 ms', 'aggregated', 'aggregated, retry 100-200 ms'] as const;
type Method = (typeof METHODS)[number];

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** PutRecords until every entry of `chunk` is in, re-sending the throttled ones after 100 ms. */
async function rawPut(client: KinesisClient, chunk: readonly Input[]): Promise<void> {
  let pending: PutRecordsRequestEntry[] = chunk.map((r) => ({ Data: Buffer.from(JSON.stringify(r.data), 'utf8'), PartitionKey: r.partitionKey }));
  while (pending.length > 0) {
    const out = await client.send(new PutRecordsCommand({ StreamName: STREAM, Records: pending }));
    const results = out.Records ?? [];
    const again = pending.filter((_, i) => results[i]?.ErrorCode !== undefined);
    if (again.length > 0 && again.some((_, i) => results[i]?.ErrorCode !== 'ProvisionedThroughputExceededException')) {
      // Only throttling is expected from this fake.
      const other = results.find((r) => r.ErrorCode && r.ErrorCode !== 'ProvisionedThroughputExceededException');
      if (other) throw new Error(`raw PutRecords entry failed: ${other.ErrorCode}`);
    }
    pending = again;
    if (pending.length > 0) await sleep(100);
  }
}

export async function main(): Promise<{ ok: boolean }> {
  const limits = { shards: envInt('BENCH_SHARDS', 4), recordsPerSecond: envInt('BENCH_SHARD_RECORDS', 1_000), bytesPerSecond: envInt('BENCH_SHARD_BYTES', 1_048_576) };
  const rounds = envInt('BENCH_ROUNDS', 3);
  const payloadBytes = envInt('BENCH_PAYLOAD_BYTES', 100);
  const callers = 8;
  // Each method gets about four seconds of the stream's capacity: raw and the plain bus are held to the record limit,
  // aggregates to the byte limit.
  const plainRecords = limits.shards * limits.recordsPerSecond * 4;
  const aggregatedRecords = Math.floor((limits.shards * limits.bytesPerSecond * 4) / (payloadBytes + 60));
  const disarm = watchdog('aggregation-limits', timeLimitMs() * 2);
  const fake = await startFakeKinesis(limits);
  const raw = new KinesisClient({ endpoint: fake.endpoint, region: REGION, credentials: FAKE_CREDENTIALS, maxAttempts: 1, requestHandler: new NodeHttpHandler({ connectionTimeout: 2_000 }) });
  const busFor = (aggregate: boolean, matched: boolean): Bus =>
    assembleBus({
      primary: createKinesisTarget({ region: REGION, stream: STREAM, endpoint: fake.endpoint, credentials: FAKE_CREDENTIALS, omitProducer: true, aggregate }),
      spool: createMemorySpool(),
      dedupe: createMemoryDedupeStore(),
      logger: quietLogger,
      reconciler: { enabled: false },
      // Throttling is the steady state here: keep at it (the default budget is 30 s per batch, then the next tier).
      delivery: { throttleBudgetMs: 120_000, ...(matched ? { backoff: { baseMs: 100, capMs: 200 } } : {}) },
    });
  const buses: Record<Exclude<Method, 'raw'>, Bus> = {
    bus: busFor(false, false),
    'bus, retry 100-200 ms': busFor(false, true),
    aggregated: busFor(true, false),
    'aggregated, retry 100-200 ms': busFor(true, true),
  };
  const acked = new Map<string, number>();
  const rates = Object.fromEntries(METHODS.map((m) => [m, [] as number[]])) as Record<Method, number[]>;
  const countOf = (m: Method): number => (m.startsWith('aggregated') ? aggregatedRecords : plainRecords);
  let ok = true;
  try {
    console.log(
      `aggregation-limits: ${limits.shards} shards x ${fmt(limits.recordsPerSecond)} records/s and ${fmt(limits.bytesPerSecond)} bytes/s each (fake Kinesis at ${fake.endpoint}), ${payloadBytes} B payloads, ${callers} callers, ${rounds} rounds`,
    );
    for (let round = 0; round < rounds; round++) {
      for (const m of rotate(METHODS, round)) {
        const n = countOf(m);
        const prefix = `r${round}m${METHODS.indexOf(m)}`;
        const inputs: Input[] = Array.from({ length: n }, (_, i) => ({ partitionKey: `${prefix}-${i % 256}`, data: jsonPayload(i, payloadBytes) }));
        const chunks: Input[][] = [];
        for (let i = 0; i < n; i += 500) chunks.push(inputs.slice(i, i + 500));
        let landed = 0;
        const { ms } = await timed(() =>
          callersOver(chunks, callers, async (chunk) => {
            if (m === 'raw') {
              await rawPut(raw, chunk);
              landed += chunk.length;
            } else {
              const results = await buses[m].sendBatch(chunk);
              landed += results.filter((r) => r.ok && r.landedOn.tier === 'primary').length;
            }
          }),
        );
        acked.set(prefix, landed);
        if (landed !== n) {
          console.log(`check FAILED: ${m} round ${round}: ${landed} of ${n} on the primary`);
          ok = false;
        }
        rates[m].push((landed / ms) * 1000);
        // Let the shards' budgets start afresh for the next method.
        await sleep(1_100);
      }
    }
    const base = median(rates.raw);
    console.log(
      table(
        `Records/s into a stream of ${limits.shards} shards at Kinesis' per-shard limits (median of ${rounds} interleaved rounds)`,
        ['method', 'records', 'median records/s', 'per round', 'vs raw'],
        METHODS.map((m) => [m, fmt(countOf(m)), fmt(median(rates[m])), rates[m].map((r) => fmt(r)).join(' / '), ratio(median(rates[m]), base)]),
      ),
    );
    const stats = await fake.stats();
    const bad = [...acked].filter(([prefix, n]) => stats.byPrefix[prefix] !== n).map(([prefix, n]) => `${prefix}: told ${n}, the stream took ${stats.byPrefix[prefix] ?? 0}`);
    console.log(bad.length === 0 ? `check: every record each method was told is in is in the stream (${acked.size} method rounds)` : `check FAILED:\n  ${bad.join('\n  ')}`);
    const verdict = (m: Method): string => `${ratio(median(rates[m]), base)} (${median(rates[m]) >= 5 * base ? 'met' : 'not met'})`;
    console.log(`goal, aggregated at least 5x raw records/s: default backoff ${verdict('aggregated')}; retry 100-200 ms ${verdict('aggregated, retry 100-200 ms')}`);
    return { ok: ok && bad.length === 0 };
  } finally {
    raw.destroy();
    await Promise.all(Object.values(buses).map((b) => b.close()));
    await fake.stop();
    disarm();
  }
}

runIfMain(import.meta.url, () => main());
