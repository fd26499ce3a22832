/**
 * Resident memory of a drain: does catching up on a big disk spool stay
 * streamed (bounded memory), or does it hold the backlog? For each N, one
 * child process fills a disk spool with N records (`createDiskSpool`, as a
 * bus writes them while nothing remote answers), then a second, fresh child
 * process measures:
 *
 * - idle: a bus (`createBus`, primary on the fast fake Kinesis of
 *   `bench/fake-kinesis.ts`, disk spool in an empty dir) opened and left idle:
 *   the baseline resident size;
 * - opened: a bus opened on the filled spool, before draining;
 * - drain: `bus.reconcile()` until the spool is empty, RSS and heap sampled
 *   every 20 ms, and heapUsed at every 10 % of the records written;
 * - peak: the kernel's high-water mark of the child (`VmHWM` in
 *   /proc/self/status), which no sampling interval can miss.
 *
 * The fake Kinesis runs in its own process, so its memory is not counted. The
 * check: every record reached the fake, the spool is empty, and peak RSS stays
 * under the goal (256 MiB by default) at every N.
 *
 *   npx tsx bench/drain-memory.ts                    N = 100,000
 *   npx tsx bench/drain-memory.ts 100000 1000000     each N in turn
 *   BENCH_DRAIN_RECORDS=1000000 BENCH_DRAIN_GOAL_MB=256 npx tsx bench/drain-memory.ts
 */
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { createDiskSpool } from '../adapters/disk/index.js';
import { createBus } from '../src/bus/create-bus.js';
import { FAKE_CREDENTIALS } from '../src/drill/kinesis-admin.js';
import { createStamper } from '../src/envelope/index.js';
import { envInt, fmt, isMain, jsonBytes, makeTempDir, quietLogger, removeTempDir, table, timeLimitMs, watchdog } from './lib.js';
import { startFakeKinesis } from './fake-kinesis.js';

const MB = 1_048_576;

/** What one drain child measured. */
export interface DrainMemoryResult {
  records: number;
  fillMs: number;
  drainMs: number;
  /** RSS of an idle bus on an empty spool (the baseline), MiB. */
  idleRssMb: number;
  /** RSS once a bus is open on the filled spool, before draining, MiB. */
  openedRssMb: number;
  /** `process.memoryUsage()` (MiB) of the idle bus and of the opened one: where the baseline goes. */
  idleMemory: MemorySplit;
  openedMemory: MemorySplit;
  /** Highest RSS seen by sampling during the drain, and the kernel's high-water mark of the process, MiB. */
  sampledPeakRssMb: number;
  peakRssMb: number;
  /** Highest heapUsed sampled during the drain, MiB. */
  peakHeapMb: number;
  /** heapUsed (MiB) at each 10 % of the records written. */
  heapByProgress: Array<{ written: number; heapMb: number; heapTotalMb: number; arrayBuffersMb: number; rssMb: number }>;
  written: number;
  /** Records the fake Kinesis received; must equal `records`. */
  received: number;
  spoolLeft: number;
}

/** RSS split into V8's heap (total, used), typed-array memory, and the rest (code, native allocations), MiB. */
export interface MemorySplit {
  rssMb: number;
  heapTotalMb: number;
  heapUsedMb: number;
  arrayBuffersMb: number;
  otherMb: number;
}

function memorySplit(): MemorySplit {
  const m = process.memoryUsage();
  return { rssMb: m.rss / MB, heapTotalMb: m.heapTotal / MB, heapUsedMb: m.heapUsed / MB, arrayBuffersMb: m.arrayBuffers / MB, otherMb: (m.rss - m.heapTotal - m.arrayBuffers) / MB };
}

/** The kernel's peak resident set of this process (VmHWM), MiB; NaN where /proc is missing. */
function highWaterMb(): number {
  try {
    const match = /VmHWM:\s+(\d+) kB/.exec(readFileSync('/proc/self/status', 'utf8'));
    return match ? Number(match[1]) / 1024 : Number.NaN;
  } catch {
    return Number.NaN;
  }
}

const rssMb = (): number => process.memoryUsage.rss() / MB;
const heapMb = (): number => process.memoryUsage().heapUsed / MB;

/** Child 1: append `records` ~200-byte records to a disk spool in `dir`, in batches of 1,000. */
async function fill(dir: string, records: number): Promise<void> {
  const spool = await createDiskSpool({ dir, maxBytes: 16 * 1024 * MB, logger: quietLogger });
  const stamp = createStamper();
  for (let i = 0; i < records; ) {
    const n = Math.min(1_000, records - i);
    await spool.append(Array.from({ length: n }, (_, k) => stamp({ partitionKey: `customer-${(i + k) % 1_000}`, data: jsonBytes(i + k) })));
    i += n;
  }
  const { records: held } = await spool.stats();
  await spool.close();
  if (held !== records) throw new Error(`the spool holds ${held} records after appending ${records}`);
}

async function openBus(endpoint: string, dir: string) {
  return createBus(
    {
      primary: { kind: 'kinesis', region: 'us-east-1', stream: 'drain-memory', endpoint, credentials: FAKE_CREDENTIALS },
      spool: { kind: 'disk', dir, maxBytes: 16 * 1024 * MB },
      reconciler: { enabled: false, maxRecordsPerSecond: 1e9, maxBytesPerSecond: 1e12 },
    },
    { logger: quietLogger },
  );
}

/** Wait `ms` (a settle between stages of the measurement, not synchronisation). */
const pause = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Child 2: the measurement (see the module comment). */
async function measureDrain(emptyDir: string, spoolDir: string, records: number): Promise<Omit<DrainMemoryResult, 'fillMs'>> {
  const fake = await startFakeKinesis();
  try {
    const idleBus = await openBus(fake.endpoint, emptyDir);
    await idleBus.send({ partitionKey: 'warm', data: 'warm' }); // one record through, so the SDK client is built
    await pause(1_000);
    const idleMemory = memorySplit();
    const idleRssMb = idleMemory.rssMb;
    await idleBus.close();

    const bus = await openBus(fake.endpoint, spoolDir);
    await pause(500);
    const openedMemory = memorySplit();
    const openedRssMb = openedMemory.rssMb;
    const heapByProgress: DrainMemoryResult['heapByProgress'] = [];
    let nextMark = records / 10;
    bus.events.on('reconciler.progress', ({ written }) => {
      if (written < nextMark) return;
      const m = process.memoryUsage();
      heapByProgress.push({ written, heapMb: m.heapUsed / MB, heapTotalMb: m.heapTotal / MB, arrayBuffersMb: m.arrayBuffers / MB, rssMb: m.rss / MB });
      while (nextMark <= written) nextMark += records / 10;
    });
    let sampledPeakRssMb = openedRssMb;
    let peakHeapMb = heapMb();
    const sampler = setInterval(() => {
      sampledPeakRssMb = Math.max(sampledPeakRssMb, rssMb());
      peakHeapMb = Math.max(peakHeapMb, heapMb());
    }, 20);
    const started = performance.now();
    let written = 0;
    for (let runs = 0; (await bus.stats()).spool.records > 0; runs++) {
      if (runs >= 20) throw new Error('the spool is not empty after 20 drains');
      const summary = await bus.reconcile();
      if (summary.error) throw new Error(`the drain stopped: ${summary.error}`);
      written += summary.written;
    }
    const drainMs = performance.now() - started;
    clearInterval(sampler);
    const spoolLeft = (await bus.stats()).spool.records;
    await bus.close();
    const received = (await fake.stats()).records - 1; // less the warm-up record
    return { records, drainMs, idleRssMb, openedRssMb, idleMemory, openedMemory, sampledPeakRssMb, peakRssMb: highWaterMb(), peakHeapMb, heapByProgress, written, received, spoolLeft };
  } finally {
    await fake.stop();
  }
}

/** Run this file as a child (`fill` or `drain`) and parse the JSON it prints last. */
function child(args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(process.execPath, [...process.execArgv, fileURLToPath(import.meta.url), ...args], { maxBuffer: 16 * MB }, (error, stdout, stderr) => {
      if (error) reject(new Error(`drain-memory ${args[0]} failed: ${stderr || error.message}`));
      else resolve(stdout.trim().split('\n').slice(-1)[0] ?? '');
    });
  });
}

/** Fill a spool with `records` in one child, drain it in another; returns what the drain measured. */
export async function runOne(records: number): Promise<DrainMemoryResult> {
  const spoolDir = await makeTempDir('spillway-drain-mem-');
  const emptyDir = await makeTempDir('spillway-drain-idle-');
  try {
    const filled = performance.now();
    await child(['fill', spoolDir, String(records)]);
    const fillMs = performance.now() - filled;
    const result = JSON.parse(await child(['drain', emptyDir, spoolDir, String(records)])) as Omit<DrainMemoryResult, 'fillMs'>;
    return { ...result, fillMs };
  } finally {
    await removeTempDir(spoolDir);
    await removeTempDir(emptyDir);
  }
}

function report(results: readonly DrainMemoryResult[], goalMb: number): string {
  const rows = results.map((r) => [
    fmt(r.records),
    fmt(r.idleRssMb, 1),
    fmt(r.openedRssMb, 1),
    fmt(r.peakRssMb, 1),
    fmt(r.sampledPeakRssMb, 1),
    fmt(r.peakHeapMb, 1),
    fmt(r.fillMs / 1000, 1),
    fmt(r.drainMs / 1000, 1),
    fmt(r.records / (r.drainMs / 1000)),
    r.peakRssMb < goalMb ? 'met' : 'NOT met',
  ]);
  const out = [table(`Drain of a disk spool into a fake Kinesis: resident memory (MiB; goal: peak < ${goalMb} MiB)`, ['records', 'idle bus RSS', 'opened RSS', 'peak RSS (VmHWM)', 'peak RSS sampled', 'peak heap', 'fill s', 'drain s', 'drained rec/s', 'goal'], rows)];
  const split = (label: string, m: MemorySplit): string[] => [label, fmt(m.rssMb, 1), fmt(m.heapTotalMb, 1), fmt(m.heapUsedMb, 1), fmt(m.arrayBuffersMb, 1), fmt(m.otherMb, 1)];
  const splits = results.flatMap((r) => [split(`${fmt(r.records)}: idle bus`, r.idleMemory), split(`${fmt(r.records)}: opened`, r.openedMemory)]);
  out.push(table('Where the resident memory is before the drain (MiB; other = RSS - heapTotal - arrayBuffers)', ['', 'RSS', 'heapTotal', 'heapUsed', 'arrayBuffers', 'other'], splits));
  for (const r of results) {
    const rows = r.heapByProgress.map((p) => [fmt(p.written), fmt(p.heapMb, 1), fmt(p.heapTotalMb, 1), fmt(p.arrayBuffersMb, 1), fmt(p.rssMb, 1)]);
    out.push(table(`Memory by progress (MiB), ${fmt(r.records)} records`, ['written', 'heapUsed', 'heapTotal', 'arrayBuffers', 'RSS'], rows));
  }
  return out.join('\n');
}

/** Options: the record counts to drain, and the goal. */
export interface DrainMemoryOptions {
  records: readonly number[];
  goalMb: number;
}

/** Drain each N in turn and print the table; ok when every drain was complete and under the goal. */
export async function main(options: Partial<DrainMemoryOptions> = {}): Promise<{ ok: boolean }> {
  const records = options.records ?? [envInt('BENCH_DRAIN_RECORDS', 100_000)];
  const goalMb = options.goalMb ?? envInt('BENCH_DRAIN_GOAL_MB', 256);
  const disarm = watchdog('drain-memory', timeLimitMs() * Math.max(1, Math.ceil(Math.max(...records) / 100_000)));
  try {
    console.log(`drain-memory: ${records.map((n) => fmt(n)).join(', ')} records of ~200 B JSON; disk spool in ${process.env.BENCH_DIR ?? 'the OS temp dir'}; fake Kinesis in its own process`);
    const results: DrainMemoryResult[] = [];
    for (const n of records) results.push(await runOne(n));
    console.log(report(results, goalMb));
    const problems = results.flatMap((r) => [
      ...(r.received !== r.records ? [`${fmt(r.records)}: the fake received ${fmt(r.received)} records`] : []),
      ...(r.spoolLeft !== 0 ? [`${fmt(r.records)}: ${fmt(r.spoolLeft)} records left in the spool`] : []),
      ...(r.peakRssMb >= goalMb ? [`${fmt(r.records)}: peak RSS ${fmt(r.peakRssMb, 1)} MiB is over the goal`] : []),
    ]);
    console.log(problems.length === 0 ? 'check: every record drained, spool empty, peak under the goal' : `check FAILED:\n  ${problems.join('\n  ')}`);
    return { ok: problems.length === 0 };
  } finally {
    disarm();
  }
}

async function childMain(argv: readonly string[]): Promise<void> {
  const [mode, ...rest] = argv;
  if (mode === 'fill') {
    await fill(rest[0] as string, Number(rest[1]));
    console.log('{}');
  } else if (mode === 'drain') {
    console.log(JSON.stringify(await measureDrain(rest[0] as string, rest[1] as string, Number(rest[2]))));
  }
}

if (isMain(import.meta.url)) {
  const argv = process.argv.slice(2);
  const run = argv[0] === 'fill' || argv[0] === 'drain' ? childMain(argv).then(() => ({ ok: true })) : main(argv.length > 0 ? { records: argv.map(Number) } : {});
  run.then(
    (result) => {
      process.exitCode = result.ok ? 0 : 1;
    },
    (error: unknown) => {
      console.error(error);
      process.exitCode = 1;
    },
  );
}
