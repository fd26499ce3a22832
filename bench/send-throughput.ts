/**
 * Send throughput and latency: spillway's bus against the raw AWS SDK, on the
 * same kinesalite emulator and the same 4-shard stream, in one run.
 *
 * - baseline: `KinesisClient` + `PutRecords` of 500, awaited one after another;
 * - second baseline: the same, but the records are spillway envelopes encoded before the clock starts
 *   (the bytes the bus sends, without the bus);
 * - candidate: `bus.sendBatch` in chunks of 500, awaited one after another;
 * - candidate: N `bus.send()` issued at once, then awaited (the batcher groups them);
 * - latency: awaited single `bus.send` against awaited single `PutRecord`.
 *
 * Rounds are interleaved (the order rotates each round) and the median round
 * is reported, with the CPU each side burns per record: this process
 * (`process.cpuUsage`) and the emulator child (`/proc/<pid>/stat`, Linux). Afterwards the stream is read back and counted per method
 * (partition-key prefix), so a run that failed over or lost records cannot
 * pass for a fast one.
 *
 *   npx tsx bench/send-throughput.ts
 *   BENCH_RECORDS=20000 BENCH_ROUNDS=3 BENCH_LATENCY=500 BENCH_SHARDS=4 BENCH_PAYLOAD_BYTES=200
 */
import { readFileSync } from 'node:fs';
import { KinesisClient, PutRecordCommand, PutRecordsCommand } from '@aws-sdk/client-kinesis';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import type { Bus } from '../src/bus/bus.js';
import { createBus } from '../src/bus/create-bus.js';
import { type KinesisEmulator, startKinesisEmulator } from '../src/drill/emulators.js';
import { createKinesisClientFor, ensureStream, FAKE_CREDENTIALS, readAllRecords } from '../src/drill/kinesis-admin.js';
import { createStamper, encodeEnvelope, isEnvelopeBytes } from '../src/envelope/index.js';
import {
  envInt,
  fmt,
  jsonPayload,
  latencySummary,
  makeTempDir,
  median,
  quietLogger,
  ratio,
  removeTempDir,
  rotate,
  runIfMain,
  table,
  timed,
  timeLimitMs,
  watchdog,
} from './lib.js';

/** Sizes for one run; each defaults from the environment. */
export interface SendThroughputOptions {
  records: number;
  rounds: number;
  latencySends: number;
  shards: number;
  payloadBytes: number;
}

const BATCH = 500;
const LATENCY_BLOCK = 50;
const REGION = 'us-east-1';

/** Options from BENCH_* environment variables. */
export function optionsFromEnv(): SendThroughputOptions {
  return {
    records: envInt('BENCH_RECORDS', 20_000),
    rounds: envInt('BENCH_ROUNDS', 3),
    latencySends: envInt('BENCH_LATENCY', 500),
    shards: envInt('BENCH_SHARDS', 4),
    payloadBytes: envInt('BENCH_PAYLOAD_BYTES', 200),
  };
}

/** Partition-key prefixes: one per method, so the read-back can count each. */
const PREFIX = { warmRaw: 'wraw-', warmBus: 'wbus-', raw: 'raw-', rawEnv: 'renv-', batch: 'bat-', send: 'snd-', latRaw: 'lraw-', latRaw1: 'lrw1-', latBus: 'lbus-' } as const;
type Method = keyof typeof PREFIX;

interface Ctx {
  raw: KinesisClient;
  bus: Bus;
  stream: string;
  objects: ReadonlyArray<Record<string, unknown>>;
  expected: Record<Method, number>;
  /** Records that did not land where they should (raw: failed entries; bus: not on the primary, or rejected). */
  failures: Record<Method, number>;
}

const THROUGHPUT_METHODS = ['raw', 'rawEnv', 'batch', 'send'] as const;
type ThroughputMethod = (typeof THROUGHPUT_METHODS)[number];

/** CPU time (user + system) of a child process so far, in microseconds, from /proc; NaN where there is no /proc. */
function childCpuUs(pid: number): number {
  try {
    // Fields after the ")" of the command name: state is field 3, utime 14, stime 15 (clock ticks, 100 per second on Linux).
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) * 10_000;
  } catch {
    return Number.NaN;
  }
}

const key = (method: Method, i: number): string => `${PREFIX[method]}${i % 64}`;

/** Baseline: PutRecords of 500, sequentially; JSON serialisation inside the timed region, as the bus does it too. */
async function runRaw(ctx: Ctx, method: Method = 'raw', count = ctx.objects.length): Promise<void> {
  for (let from = 0; from < count; from += BATCH) {
    const Records = ctx.objects.slice(from, Math.min(count, from + BATCH)).map((o, j) => ({
      Data: Buffer.from(JSON.stringify(o), 'utf8'),
      PartitionKey: key(method, from + j),
    }));
    const out = await ctx.raw.send(new PutRecordsCommand({ StreamName: ctx.stream, Records }));
    ctx.failures[method] += out.FailedRecordCount ?? 0;
    ctx.expected[method] += Records.length - (out.FailedRecordCount ?? 0);
  }
}

/**
 * A second baseline: PutRecords x500 of bytes that are already spillway envelopes (stamped and encoded before
 * the clock starts). Same bytes on the wire as the bus, none of its machinery: it separates the cost of the
 * bigger records from the cost of the bus itself.
 */
async function runRawEnvelopes(ctx: Ctx, payloads: readonly Uint8Array[]): Promise<void> {
  for (let from = 0; from < payloads.length; from += BATCH) {
    const Records = payloads.slice(from, from + BATCH).map((Data, j) => ({ Data, PartitionKey: key('rawEnv', from + j) }));
    const out = await ctx.raw.send(new PutRecordsCommand({ StreamName: ctx.stream, Records }));
    ctx.failures.rawEnv += out.FailedRecordCount ?? 0;
    ctx.expected.rawEnv += Records.length - (out.FailedRecordCount ?? 0);
  }
}

/** Candidate: bus.sendBatch in chunks of 500, sequentially. */
async function runBatch(ctx: Ctx, method: Method = 'batch', count = ctx.objects.length): Promise<void> {
  for (let from = 0; from < count; from += BATCH) {
    const inputs = ctx.objects.slice(from, Math.min(count, from + BATCH)).map((data, j) => ({ partitionKey: key(method, from + j), data }));
    const results = await ctx.bus.sendBatch(inputs);
    for (const r of results) {
      if (r.ok && r.landedOn.tier === 'primary') ctx.expected[method] += 1;
      else ctx.failures[method] += 1;
    }
  }
}

/** Candidate: every record sent at once, then all awaited: the batcher forms the PutRecords calls. */
async function runConcurrentSends(ctx: Ctx): Promise<void> {
  const pending = ctx.objects.map((data, i) => ctx.bus.send({ partitionKey: key('send', i), data }));
  for (const r of await Promise.allSettled(pending)) {
    if (r.status === 'fulfilled' && r.value.landedOn.tier === 'primary') ctx.expected.send += 1;
    else ctx.failures.send += 1;
  }
}

type LatencySide = 'raw' | 'raw1' | 'bus' | 'tick';

/**
 * Sequential single sends, in interleaved blocks (the order rotates per
 * block); latencies in ms. `raw1` is PutRecords with one entry, the call the
 * bus makes; `tick` is a bare `setTimeout(0)` (about 1 ms in Node), kept as a
 * reference: the batcher dispatches a lone send on `setImmediate` instead.
 */
async function runLatency(ctx: Ctx, total: number): Promise<Record<LatencySide, number[]>> {
  const lat: Record<LatencySide, number[]> = { raw: [], raw1: [], bus: [], tick: [] };
  const bytes = (i: number): Buffer => Buffer.from(JSON.stringify(ctx.objects[i % ctx.objects.length]), 'utf8');
  const one: Record<LatencySide, (i: number) => Promise<void>> = {
    raw: async (i) => {
      await ctx.raw.send(new PutRecordCommand({ StreamName: ctx.stream, PartitionKey: key('latRaw', i), Data: bytes(i) }));
      ctx.expected.latRaw += 1;
    },
    raw1: async (i) => {
      const out = await ctx.raw.send(new PutRecordsCommand({ StreamName: ctx.stream, Records: [{ PartitionKey: key('latRaw1', i), Data: bytes(i) }] }));
      if (out.FailedRecordCount) ctx.failures.latRaw1 += 1;
      else ctx.expected.latRaw1 += 1;
    },
    bus: async (i) => {
      const r = await ctx.bus.send({ partitionKey: key('latBus', i), data: ctx.objects[i % ctx.objects.length] });
      if (r.landedOn.tier === 'primary') ctx.expected.latBus += 1;
      else ctx.failures.latBus += 1;
    },
    tick: () => new Promise((resolve) => setTimeout(resolve, 0)),
  };
  let i = 0;
  for (let block = 0; i < total; block += 1) {
    const n = Math.min(LATENCY_BLOCK, total - i);
    for (const side of rotate(['raw', 'bus', 'raw1', 'tick'] as const, block)) {
      for (let j = 0; j < n; j += 1) {
        const started = performance.now();
        await one[side](i + j);
        lat[side].push(performance.now() - started);
      }
    }
    i += n;
  }
  return lat;
}

/** Read the stream back and count records per method. */
async function verify(ctx: Ctx, admin: KinesisClient): Promise<{ rows: string[][]; ok: boolean; ms: number; bytes: Record<Method, number> }> {
  const { ms, value: records } = await timed(() => readAllRecords(admin, ctx.stream, { timeoutMs: 90_000 }));
  const found = { warmRaw: 0, warmBus: 0, raw: 0, rawEnv: 0, batch: 0, send: 0, latRaw: 0, latRaw1: 0, latBus: 0 } as Record<Method, number>;
  const bytes = { ...found };
  const envelopes = { ...found };
  const methods = Object.keys(PREFIX) as Method[];
  for (const r of records) {
    const method = methods.find((m) => r.partitionKey.startsWith(PREFIX[m]));
    if (method === undefined) continue;
    found[method] += 1;
    bytes[method] += r.data.length;
    if (isEnvelopeBytes(r.data)) envelopes[method] += 1;
  }
  let ok = true;
  const rows = methods.map((m) => {
    const isBus = m === 'warmBus' || m === 'rawEnv' || m === 'batch' || m === 'send' || m === 'latBus';
    const good = found[m] === ctx.expected[m] && ctx.failures[m] === 0 && envelopes[m] === (isBus ? found[m] : 0);
    ok &&= good;
    return [m, fmt(ctx.expected[m]), fmt(found[m]), fmt(ctx.failures[m]), fmt(found[m] ? bytes[m] / found[m] : Number.NaN), good ? 'ok' : 'MISMATCH'];
  });
  return { rows, ok, ms, bytes: Object.fromEntries(methods.map((m) => [m, found[m] ? bytes[m] / found[m] : Number.NaN])) as Record<Method, number> };
}

/** Run the benchmark and print its tables. */
export async function main(options: SendThroughputOptions = optionsFromEnv()): Promise<{ ok: boolean }> {
  const disarm = watchdog('send-throughput', timeLimitMs());
  const cleanup: Array<() => Promise<unknown>> = [];
  try {
    const { records, rounds, latencySends, shards, payloadBytes } = options;
    console.log(`send-throughput: ${fmt(records)} records x ${rounds} rounds per method, ~${payloadBytes} B JSON, ${shards} shards, kinesalite`);
    const emulator: KinesisEmulator = await startKinesisEmulator();
    cleanup.unshift(() => emulator.stop());
    const admin = createKinesisClientFor(emulator.endpoint, REGION);
    cleanup.unshift(async () => admin.destroy());
    const stream = `bench-send-${Date.now().toString(36)}`;
    await ensureStream(admin, stream, shards);
    // The baseline client: what spillway's target builds (adapters/aws/client-options.ts), without spillway around it.
    const raw = new KinesisClient({ endpoint: emulator.endpoint, region: REGION, credentials: FAKE_CREDENTIALS, maxAttempts: 1, requestHandler: new NodeHttpHandler({ connectionTimeout: 2_000 }) });
    cleanup.unshift(async () => raw.destroy());
    const spoolDir = await makeTempDir('spillway-bench-send-');
    cleanup.push(() => removeTempDir(spoolDir));
    const bus = await createBus(
      {
        primary: { kind: 'kinesis', region: REGION, stream, endpoint: emulator.endpoint, credentials: FAKE_CREDENTIALS },
        spool: { kind: 'disk', dir: spoolDir },
        verifyStreams: true,
        reconciler: { enabled: false },
      },
      { logger: process.env.BENCH_QUIET === '0' ? undefined : quietLogger },
    );
    cleanup.unshift(() => bus.close());
    const zero = (): Record<Method, number> => ({ warmRaw: 0, warmBus: 0, raw: 0, rawEnv: 0, batch: 0, send: 0, latRaw: 0, latRaw1: 0, latBus: 0 });
    const objects = Array.from({ length: records }, (_, i) => jsonPayload(i, payloadBytes));
    const ctx: Ctx = { raw, bus, stream, objects, expected: zero(), failures: zero() };

    // Warm-up: connections, JIT, the emulator's stream state. Not timed.
    await runRaw(ctx, 'warmRaw', Math.min(1_000, records));
    await runBatch(ctx, 'warmBus', Math.min(1_000, records));

    const stamp = createStamper();
    const preEncoded = (): Uint8Array[] => objects.map((data, i) => encodeEnvelope(stamp({ partitionKey: key('rawEnv', i), data })));
    /** The run for one method; its input is prepared here, before the clock starts. */
    const prepare = (name: ThroughputMethod): (() => Promise<void>) => {
      if (name === 'rawEnv') {
        const payloads = preEncoded();
        return () => runRawEnvelopes(ctx, payloads);
      }
      return { raw: () => runRaw(ctx), batch: () => runBatch(ctx), send: () => runConcurrentSends(ctx) }[name];
    };
    const samples: Record<ThroughputMethod, Array<{ rate: number; cpuUs: number; emulatorUs: number }>> = { raw: [], rawEnv: [], batch: [], send: [] };
    for (let round = 0; round < rounds; round += 1) {
      for (const name of rotate(THROUGHPUT_METHODS, round)) {
        const run = prepare(name);
        const cpu = process.cpuUsage();
        const emu = childCpuUs(emulator.pid);
        const { ms } = await timed(run);
        const used = process.cpuUsage(cpu);
        samples[name].push({ rate: (records / ms) * 1000, cpuUs: (used.user + used.system) / records, emulatorUs: (childCpuUs(emulator.pid) - emu) / records });
      }
    }
    const lat = await runLatency(ctx, latencySends);
    const check = await verify(ctx, admin);

    const rates = (name: ThroughputMethod): number[] => samples[name].map((x) => x.rate);
    const base = median(rates('raw'));
    const row = (label: string, name: ThroughputMethod, bytes: number): string[] => [
      label,
      fmt(median(rates(name))),
      rates(name).map((r) => fmt(r)).join(' / '),
      fmt(bytes),
      fmt(median(samples[name].map((x) => x.cpuUs)), 1),
      fmt(median(samples[name].map((x) => x.emulatorUs)), 1),
      ratio(median(rates(name)), base),
    ];
    console.log(
      table(
        `Throughput (records/s, median of ${rounds} interleaved rounds of ${fmt(records)}; CPU in microseconds per record)`,
        ['method', 'median rec/s', 'per round', 'B/record', 'bench CPU', 'emulator CPU', 'vs raw'],
        [
          row('raw SDK PutRecords x500, sequential', 'raw', check.bytes.raw),
          row('raw SDK PutRecords x500, envelopes pre-encoded', 'rawEnv', check.bytes.rawEnv),
          row('bus.sendBatch x500, sequential', 'batch', check.bytes.batch),
          row(`bus.send x${fmt(records)} concurrent`, 'send', check.bytes.send),
        ],
      ),
    );
    console.log(
      table(
        'Throughput ratios (median records/s)',
        ['comparison', 'ratio'],
        [
          ['bus.sendBatch / raw PutRecords', ratio(median(rates('batch')), base)],
          ['bus.send concurrent / raw PutRecords', ratio(median(rates('send')), base)],
          ['raw PutRecords of envelope bytes / raw PutRecords (cost of the bigger records alone)', ratio(median(rates('rawEnv')), base)],
          ['bus.sendBatch / raw PutRecords of the same envelope bytes (cost of the bus alone)', ratio(median(rates('batch')), median(rates('rawEnv')))],
          ['bus.send concurrent / raw PutRecords of the same envelope bytes', ratio(median(rates('send')), median(rates('rawEnv')))],
        ],
      ),
    );
    const mean = (v: readonly number[]): number => v.reduce((a, b) => a + b, 0) / v.length;
    const ls = (side: LatencySide) => ({ ...latencySummary(lat[side]), mean: mean(lat[side]) });
    const lr = ls('raw');
    const lr1 = ls('raw1');
    const lb = ls('bus');
    const lt = ls('tick');
    const latRow = (label: string, s: ReturnType<typeof ls>): string[] => [label, fmt(s.n), fmt(s.p50, 2), fmt(s.p99, 2), fmt(s.mean, 2)];
    console.log(
      table(
        `Sequential single-record latency (ms, ${fmt(latencySends)} awaited sends each, interleaved in blocks of ${LATENCY_BLOCK})`,
        ['method', 'n', 'p50', 'p99', 'mean'],
        [
          latRow('raw SDK PutRecord', lr),
          latRow('raw SDK PutRecords x1 (the call the bus makes)', lr1),
          latRow('bus.send', lb),
          ['ratio bus.send / PutRecord', '', ratio(lb.p50, lr.p50), ratio(lb.p99, lr.p99), ratio(lb.mean, lr.mean)],
          ['ratio bus.send / PutRecords x1', '', ratio(lb.p50, lr1.p50), ratio(lb.p99, lr1.p99), ratio(lb.mean, lr1.mean)],
          latRow('reference: bare setTimeout(0)', lt),
        ],
      ),
    );
    console.log(table(`Read-back check (whole stream read in ${fmt(check.ms)} ms, not timed above)`, ['method', 'acknowledged', 'in stream', 'failures', 'B/record', 'check'], check.rows));
    if (!check.ok) console.log('send-throughput: FAILED: the stream does not hold exactly what was acknowledged (see the check table).');
    return { ok: check.ok };
  } finally {
    for (const step of cleanup) await step().catch((error: unknown) => console.error('send-throughput: cleanup step failed:', error));
    disarm();
  }
}

runIfMain(import.meta.url, () => main());
