/**
 * Send throughput at the raw SDK's level: spillway's bus against the raw
 * `KinesisClient`, both against the fast fake Kinesis of bench/fake-kinesis.ts
 * (a child process), in one run, so the client's own cost shows instead of an
 * emulator's.
 *
 * - batch: `CALLERS` concurrent callers, each sending chunks of up to 500
 *   records and 5 MiB: raw `PutRecords` against `bus.sendBatch`;
 * - single: `SINGLE_CALLERS` concurrent callers, each awaiting one record at a
 *   time: raw `PutRecord` against `bus.send` (the batcher groups them);
 * - aggregated: `bus.sendBatch` on a bus whose Kinesis target packs records
 *   into KPL aggregates (smallest payload only), against the same raw baseline;
 * - latency: awaited single sends, `PutRecord` against `bus.send`, in
 *   interleaved blocks.
 *
 * Rounds are interleaved (order rotates) and the median is reported. The fake
 * counts what it accepted per partition-key prefix; a method whose count is
 * not what its callers were told fails the run.
 *
 *   npx tsx bench/fake-throughput.ts
 *   BENCH_ONLY=busBatch (only these methods, e.g. to profile one) BENCH_FAKE_SIZES=100,1024,51200 BENCH_FAKE_RECORDS=40000 BENCH_ROUNDS=3 BENCH_CALLERS=8 BENCH_SINGLE_CALLERS=64
 */
import { KinesisClient, PutRecordCommand, PutRecordsCommand } from '@aws-sdk/client-kinesis';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import { createKinesisTarget } from '../adapters/kinesis/kinesis-target.js';
import { createMemoryDedupeStore, createMemorySpool } from '../adapters/memory/index.js';
import { assembleBus, type Bus } from '../src/bus/bus.js';
import { createBus } from '../src/bus/create-bus.js';
import { FAKE_CREDENTIALS } from '../src/drill/kinesis-admin.js';
import { type FakeKinesis, startFakeKinesis } from './fake-kinesis.js';
import { callersOver, envInt, fmt, jsonPayload, latencySummary, makeTempDir, median, pairedRatios, quietLogger, ratio, removeTempDir, rotate, runIfMain, table, timed, timeLimitMs, watchdog } from './lib.js';

const REGION = 'us-east-1';
const MAX_RECORDS = 500;
const MAX_BYTES = 5 * 1_048_576;

interface Ctx {
  raw: KinesisClient;
  bus: Bus;
  /** A bus whose primary packs records into KPL aggregates. */
  aggBus: Bus;
  stream: string;
  acked: Map<string, number>;
  failed: Map<string, number>;
  fake: FakeKinesis;
}

type Input = { partitionKey: string; data: Record<string, unknown> };

const bump = (m: Map<string, number>, k: string, n: number): void => void m.set(k, (m.get(k) ?? 0) + n);

/** Chunks of at most 500 records and 5 MiB (payload plus key), as PutRecords allows. */
function chunks(inputs: readonly Input[], payloadBytes: number): Input[][] {
  const per = Math.max(1, Math.min(MAX_RECORDS, Math.floor(MAX_BYTES / (payloadBytes + 64))));
  const out: Input[][] = [];
  for (let i = 0; i < inputs.length; i += per) out.push(inputs.slice(i, i + per));
  return out;
}


function inputsFor(prefix: string, count: number, payloadBytes: number): Input[] {
  return Array.from({ length: count }, (_, i) => ({ partitionKey: `${prefix}-${i % 256}`, data: jsonPayload(i, payloadBytes) }));
}

/** `bus.sendBatch` from `callers` callers, counting what landed on the primary. */
function sendBatchesOn(bus: Bus, ctx: Ctx, inputs: readonly Input[], callers: number, payloadBytes: number): Promise<void> {
  return callersOver(chunks(inputs, payloadBytes), callers, async (chunk) => {
    const results = await bus.sendBatch(chunk);
    const good = results.filter((r) => r.ok && r.landedOn.tier === 'primary').length;
    bump(ctx.acked, prefixOf(chunk), good);
    bump(ctx.failed, prefixOf(chunk), chunk.length - good);
  });
}

const METHODS = {
  rawBatch: async (ctx: Ctx, inputs: readonly Input[], callers: number, payloadBytes: number) =>
    callersOver(chunks(inputs, payloadBytes), callers, async (chunk) => {
      const Records = chunk.map((r) => ({ Data: Buffer.from(JSON.stringify(r.data), 'utf8'), PartitionKey: r.partitionKey }));
      const out = await ctx.raw.send(new PutRecordsCommand({ StreamName: ctx.stream, Records }));
      bump(ctx.acked, prefixOf(chunk), chunk.length - (out.FailedRecordCount ?? 0));
      bump(ctx.failed, prefixOf(chunk), out.FailedRecordCount ?? 0);
    }),
  busBatch: (ctx: Ctx, inputs: readonly Input[], callers: number, payloadBytes: number) => sendBatchesOn(ctx.bus, ctx, inputs, callers, payloadBytes),
  aggBatch: (ctx: Ctx, inputs: readonly Input[], callers: number, payloadBytes: number) => sendBatchesOn(ctx.aggBus, ctx, inputs, callers, payloadBytes),
  rawSingle: async (ctx: Ctx, inputs: readonly Input[], callers: number) =>
    callersOver(inputs, callers, async (r) => {
      await ctx.raw.send(new PutRecordCommand({ StreamName: ctx.stream, PartitionKey: r.partitionKey, Data: Buffer.from(JSON.stringify(r.data), 'utf8') }));
      bump(ctx.acked, prefixOf([r]), 1);
    }),
  busSingle: async (ctx: Ctx, inputs: readonly Input[], callers: number) =>
    callersOver(inputs, callers, async (r) => {
      const out = await ctx.bus.send(r);
      bump(out.landedOn.tier === 'primary' ? ctx.acked : ctx.failed, prefixOf([r]), 1);
    }),
} as const;
type Method = keyof typeof METHODS;

function prefixOf(chunk: readonly Input[]): string {
  const key = (chunk[0] as Input).partitionKey;
  return key.slice(0, key.indexOf('-'));
}

interface Sample {
  rate: number;
  cpuUs: number;
  /** Share of the round's wall time the event loop was busy (1: never waiting on the network). */
  loopBusy: number;
  /** The fake's CPU per record in the round (its process shares the machine's cores with this one). */
  fakeCpuUs: number;
}

/** Interleaved rounds of `methods` at one payload size; returns samples per method. */
async function measure(ctx: Ctx, methodsIn: readonly Method[], opts: { records: number; rounds: number; callers: number; payloadBytes: number; tag: string }): Promise<Record<string, Sample[]>> {
  const samples: Record<string, Sample[]> = {};
  const only = process.env.BENCH_ONLY?.split(',');
  const methods = only ? methodsIn.filter((m) => only.includes(m)) : methodsIn;
  for (let round = -1; round < opts.rounds; round++) {
    for (const m of rotate(methods, Math.max(0, round))) {
      // Round -1 warms connections and the JIT with a tenth of the records; it is not counted.
      const count = round < 0 ? Math.max(MAX_RECORDS, Math.floor(opts.records / 10)) : opts.records;
      const inputs = inputsFor(`${opts.tag}${m}${round < 0 ? 'W' : ''}`, count, opts.payloadBytes);
      const fakeBefore = (await ctx.fake.stats()).cpuMicros ?? Number.NaN;
      const cpu = process.cpuUsage();
      const loop = performance.eventLoopUtilization();
      const { ms } = await timed(() => METHODS[m](ctx, inputs, opts.callers, opts.payloadBytes));
      const used = process.cpuUsage(cpu);
      const loopBusy = performance.eventLoopUtilization(loop).utilization;
      const fakeCpuUs = (((await ctx.fake.stats()).cpuMicros ?? Number.NaN) - fakeBefore) / count;
      if (round >= 0) (samples[m] ??= []).push({ rate: (count / ms) * 1000, cpuUs: (used.user + used.system) / count, loopBusy, fakeCpuUs });
    }
  }
  return samples;
}

/** Awaited single sends, interleaved in blocks of 50: PutRecord against bus.send. */
async function latency(ctx: Ctx, total: number, payloadBytes: number): Promise<{ raw: number[]; bus: number[] }> {
  const lat = { raw: [] as number[], bus: [] as number[] };
  const inputs = inputsFor('lat', total, payloadBytes);
  for (let from = 0, block = 0; from < total; from += 50, block++) {
    for (const side of rotate(['raw', 'bus'] as const, block)) {
      for (const r of inputs.slice(from, from + 50)) {
        const started = performance.now();
        if (side === 'raw') await ctx.raw.send(new PutRecordCommand({ StreamName: ctx.stream, PartitionKey: r.partitionKey, Data: Buffer.from(JSON.stringify(r.data), 'utf8') }));
        else await ctx.bus.send(r);
        lat[side].push(performance.now() - started);
      }
    }
  }
  return lat;
}

/** Run the benchmark and print its tables. */
export async function main(): Promise<{ ok: boolean }> {
  const disarm = watchdog('fake-throughput', timeLimitMs() * 2);
  const cleanup: Array<() => Promise<unknown>> = [];
  try {
    const sizes = (process.env.BENCH_FAKE_SIZES ?? '100,1024,51200').split(',').map(Number);
    const records = envInt('BENCH_FAKE_RECORDS', 40_000);
    const rounds = envInt('BENCH_ROUNDS', 3);
    const callers = envInt('BENCH_CALLERS', 8);
    const singleCallers = envInt('BENCH_SINGLE_CALLERS', 64);
    const fake = await startFakeKinesis();
    cleanup.unshift(() => fake.stop());
    console.log(`fake-throughput: payloads ${sizes.join(', ')} B, ${callers} batch callers, ${singleCallers} single callers, ${rounds} rounds, fake Kinesis at ${fake.endpoint}`);
    const stream = 'bench-fake';
    const raw = new KinesisClient({ endpoint: fake.endpoint, region: REGION, credentials: FAKE_CREDENTIALS, maxAttempts: 1, requestHandler: new NodeHttpHandler({ connectionTimeout: 2_000 }) });
    cleanup.unshift(async () => raw.destroy());
    const spoolDir = await makeTempDir('spillway-bench-fake-');
    cleanup.push(() => removeTempDir(spoolDir));
    const bus = await createBus(
      { primary: { kind: 'kinesis', region: REGION, stream, endpoint: fake.endpoint, credentials: FAKE_CREDENTIALS }, spool: { kind: 'disk', dir: spoolDir }, verifyStreams: true, reconciler: { enabled: false }, ...(process.env.BENCH_LANES ? { batching: { lanes: Number(process.env.BENCH_LANES) } } : {}) },
      { logger: quietLogger },
    );
    cleanup.unshift(() => bus.close());
    const aggBus = assembleBus({
      primary: createKinesisTarget({ region: REGION, stream, endpoint: fake.endpoint, credentials: FAKE_CREDENTIALS, aggregate: true }),
      spool: createMemorySpool(),
      dedupe: createMemoryDedupeStore(),
      logger: quietLogger,
      reconciler: { enabled: false },
    });
    cleanup.unshift(() => aggBus.close());
    const ctx: Ctx = { raw, bus, aggBus, stream, acked: new Map(), failed: new Map(), fake };
    const rows: string[][] = [];
    const ratios: string[][] = [];
    for (const [s, payloadBytes] of sizes.entries()) {
      // Fewer records for big payloads: about the same bytes per round.
      const count = Math.max(1_000, Math.min(records, Math.floor((records * 100) / Math.max(100, payloadBytes / 4))));
      // Aggregation is for small records: measured at the first (smallest) size only.
      const methods = s === 0 ? (['rawBatch', 'busBatch', 'aggBatch'] as const) : (['rawBatch', 'busBatch'] as const);
      const got = await measure(ctx, methods, { records: count, rounds, callers, payloadBytes, tag: `b${s}` });
      const base = median((got.rawBatch ?? []).map((x) => x.rate));
      for (const m of methods) if (got[m]) rows.push(row(`${m} ${payloadBytes} B x${callers}`, got[m] ?? [], base));
      ratios.push([`bus.sendBatch / raw PutRecords, ${payloadBytes} B, ${callers} callers`, ratio(median((got.busBatch ?? []).map((x) => x.rate)), base)]);
      if (got.busBatch && got.rawBatch) ratios.push(paired(`  the same, median of per-round ratios (lowest-highest)`, got.busBatch, got.rawBatch));
      if (got.aggBatch) ratios.push([`bus.sendBatch aggregated (KPL) / raw PutRecords, ${payloadBytes} B, ${callers} callers`, ratio(median(got.aggBatch.map((x) => x.rate)), base)]);
    }
    const single = await measure(ctx, ['rawSingle', 'busSingle'], { records: Math.min(records, 20_000), rounds, callers: singleCallers, payloadBytes: sizes[0] ?? 100, tag: 's' });
    const singleBase = median((single.rawSingle ?? []).map((x) => x.rate));
    for (const m of ['rawSingle', 'busSingle'] as const) rows.push(row(`${m} ${sizes[0]} B x${singleCallers}`, single[m] ?? [], singleBase));
    ratios.push([`bus.send / raw PutRecord, ${singleCallers} concurrent callers`, ratio(median((single.busSingle ?? []).map((x) => x.rate)), singleBase)]);
    if (single.busSingle && single.rawSingle) ratios.push(paired(`  the same, median of per-round ratios (lowest-highest)`, single.busSingle, single.rawSingle));
    const lat = await latency(ctx, envInt('BENCH_LATENCY', 500), sizes[0] ?? 100);
    const lr = latencySummary(lat.raw);
    const lb = latencySummary(lat.bus);
    console.log(
      table(
        `Throughput (records/s, median of ${rounds} interleaved rounds; CPU in microseconds per record in this process, all threads, and in the fake's; loop: share of the time the event loop was busy)`,
        ['method', 'median rec/s', 'per round', 'CPU/rec', 'fake CPU/rec', 'loop', 'vs raw'],
        rows,
      ),
    );
    ratios.push([`awaited single send p50: bus ${fmt(lb.p50, 3)} ms, PutRecord ${fmt(lr.p50, 3)} ms; added`, `${fmt(lb.p50 - lr.p50, 3)} ms`]);
    ratios.push([`awaited single send p99: bus ${fmt(lb.p99, 3)} ms, PutRecord ${fmt(lr.p99, 3)} ms; added`, `${fmt(lb.p99 - lr.p99, 3)} ms`]);
    console.log(table('Ratios (same run)', ['comparison', 'value'], ratios));
    return { ok: await check(ctx, await fake.stats()) };
  } finally {
    for (const step of cleanup) await step().catch((error: unknown) => console.error('fake-throughput: cleanup step failed:', error));
    disarm();
  }
}

/** A ratio table row from paired rounds (see pairedRatios). */
function paired(label: string, candidate: readonly Sample[], baseline: readonly Sample[]): string[] {
  const r = pairedRatios(
    candidate.map((x) => x.rate),
    baseline.map((x) => x.rate),
  );
  return [label, `${r.median.toFixed(2)}x (${r.low.toFixed(2)}-${r.high.toFixed(2)})`];
}

function row(label: string, samples: readonly Sample[], base: number): string[] {
  const rates = samples.map((x) => x.rate);
  const busy = median(samples.map((x) => x.loopBusy));
  const fakeCpu = median(samples.map((x) => x.fakeCpuUs));
  return [label, fmt(median(rates)), rates.map((r) => fmt(r)).join(' / '), fmt(median(samples.map((x) => x.cpuUs)), 1), Number.isFinite(fakeCpu) ? fmt(fakeCpu, 1) : 'n/a', Number.isFinite(busy) ? `${fmt(busy * 100)} %` : 'n/a', ratio(median(rates), base)];
}

/** Every prefix: what the fake accepted equals what the callers were told, and nothing failed. */
async function check(ctx: Ctx, stats: { byPrefix: Record<string, number>; callsByPrefix: Record<string, number> }): Promise<boolean> {
  const perCall = [...ctx.acked.keys()].filter((p) => !p.endsWith('W')).map((p) => `${p} ${fmt((stats.byPrefix[p] ?? 0) / (stats.callsByPrefix[p] ?? 1), 1)}`);
  console.log(`records per put call: ${perCall.join(', ')}`);
  const bad: string[] = [];
  for (const [prefix, n] of ctx.acked) if (stats.byPrefix[prefix] !== n) bad.push(`${prefix}: acknowledged ${n}, fake received ${stats.byPrefix[prefix] ?? 0}`);
  for (const [prefix, n] of ctx.failed) if (n > 0) bad.push(`${prefix}: ${n} not on the primary`);
  console.log(bad.length === 0 ? `check: every acknowledged record reached the fake (${ctx.acked.size} methods x sizes x rounds), none failed over` : `check FAILED:\n  ${bad.join('\n  ')}`);
  return bad.length === 0;
}

runIfMain(import.meta.url, () => main());
