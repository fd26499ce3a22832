/**
 * The bus's CPU per record in two builds of spillway, measured in one process
 * in interleaved rounds, so that a change to the send path is judged against
 * the code before it under the same noise (this machine's run-to-run drift
 * is larger than most single changes).
 *
 * The base revision is checked out in a temporary git worktree and compiled
 * next to the working tree's build (both under .bench-build/compare, so they
 * resolve this checkout's node_modules). Both buses send through the real SDK
 * stack to the in-process Kinesis of client-overhead.ts; the raw client is
 * measured in the same rounds for reference. Each bus has an instance id, as
 * `createBus` gives it.
 *
 *   npx tsx bench/compare-builds.ts 88f7251
 *   BENCH_ROUNDS=9 BENCH_FAKE_RECORDS=60000 BENCH_FAKE_SIZES=100,1024 npx tsx bench/compare-builds.ts HEAD~3
 *
 * The base must have the same module layout (src/bus/bus.ts assembleBus,
 * adapters/kinesis/kinesis-target.ts, adapters/memory); older revisions fail
 * to load with a message saying so.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, rmSync, symlinkSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { KinesisClient } from '@aws-sdk/client-kinesis';
import { FAKE_CREDENTIALS } from '../src/drill/kinesis-admin.js';
import { cpuRound, inProcessKinesis, rawPutRecords } from './client-overhead.js';
import { envInt, fmt, median, pairedRatios, quietLogger, ratio, rotate, runIfMain, table } from './lib.js';

const ROOT = resolve(import.meta.dirname, '..');
const OUT = join(ROOT, '.bench-build', 'compare');

interface Build {
  name: string;
  dir: string;
}

interface BusLike {
  sendBatch(inputs: ReadonlyArray<{ partitionKey: string; data: unknown }>): Promise<Array<{ ok: boolean }>>;
  close(): Promise<void>;
}

function tsc(project: string, outDir: string): void {
  rmSync(outDir, { recursive: true, force: true });
  try {
    execFileSync(process.execPath, [join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', project, '--outDir', outDir, '--declaration', 'false', '--sourceMap', 'false', '--noEmitOnError', 'false'], { stdio: 'pipe' });
  } catch {
    // Type errors in tests of an older revision do not stop the emit; a missing file below says if it failed.
  }
}

/** Build `rev` in a temporary worktree, and the working tree, under .bench-build/compare. */
function buildBoth(rev: string): { base: Build; head: Build } {
  const sha = execFileSync('git', ['-C', ROOT, 'rev-parse', '--short', `${rev}^{commit}`], { encoding: 'utf8' }).trim();
  mkdirSync(OUT, { recursive: true });
  const worktree = join(OUT, `src-${sha}`);
  if (!existsSync(worktree)) execFileSync('git', ['-C', ROOT, 'worktree', 'add', '--detach', '--force', worktree, sha], { stdio: 'pipe' });
  try {
    if (!existsSync(join(worktree, 'node_modules'))) symlinkSync(join(ROOT, 'node_modules'), join(worktree, 'node_modules'));
    const base = { name: sha, dir: join(OUT, `build-${sha}`) };
    tsc(worktree, base.dir);
    const head = { name: 'working tree', dir: join(OUT, 'build-head') };
    tsc(ROOT, head.dir);
    return { base, head };
  } finally {
    execFileSync('git', ['-C', ROOT, 'worktree', 'remove', '--force', worktree], { stdio: 'pipe' });
  }
}

async function busOf(build: Build, handler: ReturnType<typeof inProcessKinesis>['handler']): Promise<BusLike> {
  const file = (path: string): string => {
    const full = join(build.dir, path);
    if (!existsSync(full)) throw new Error(`${build.name} has no ${path} after compiling; compare-builds needs a revision with the same module layout`);
    return pathToFileURL(full).href;
  };
  const { assembleBus } = await import(file('src/bus/bus.js'));
  const { createKinesisTarget } = await import(file('adapters/kinesis/kinesis-target.js'));
  const { createMemorySpool, createMemoryDedupeStore } = await import(file('adapters/memory/index.js'));
  // The client the build's target makes for itself when given none, on the in-process handler: builds from before
  // put-records-call.ts had a plain client.
  const config = { region: 'us-east-1', credentials: FAKE_CREDENTIALS, requestHandler: handler, maxAttempts: 1 };
  const prepared = existsSync(join(build.dir, 'adapters/kinesis/put-records-call.js')) ? await import(file('adapters/kinesis/put-records-call.js')) : undefined;
  const client = prepared ? prepared.createPutRecordsClient(config) : new KinesisClient(config);
  return assembleBus({
    primary: createKinesisTarget({ region: 'us-east-1', stream: 'bench-compare', client, omitProducer: true }),
    spool: createMemorySpool(),
    dedupe: createMemoryDedupeStore(),
    logger: quietLogger,
    reconciler: { enabled: false },
    instanceId: 'bench-producer',
  }) as BusLike;
}

export async function main(): Promise<{ ok: boolean }> {
  const rev = process.argv[2];
  if (!rev) throw new Error('usage: npx tsx bench/compare-builds.ts <base revision>   (e.g. HEAD~3 or a commit id)');
  const sizes = (process.env.BENCH_FAKE_SIZES ?? '100').split(',').map(Number);
  const records = envInt('BENCH_FAKE_RECORDS', 60_000);
  const rounds = envInt('BENCH_ROUNDS', 9);
  const callers = envInt('BENCH_CALLERS', 8);
  const { base, head } = buildBoth(rev);
  const fake = inProcessKinesis();
  const buses: Record<string, BusLike> = { base: await busOf(base, fake.handler), head: await busOf(head, fake.handler) };
  const raw = new KinesisClient({ region: 'us-east-1', credentials: FAKE_CREDENTIALS, requestHandler: fake.handler, maxAttempts: 1 });
  console.log(`compare-builds: base ${base.name} against the working tree; ${sizes.join(', ')} B, ${callers} callers, ${rounds} interleaved rounds of ${fmt(records)} records`);
  const rows: string[][] = [];
  let ok = true;
  try {
    for (const payloadBytes of sizes) {
      const count = Math.max(2_000, Math.floor((records * 100) / Math.max(100, payloadBytes)));
      const cpu: Record<string, number[]> = { base: [], head: [], raw: [] };
      for (let round = -1; round < rounds; round++) {
        for (const m of rotate(['base', 'head', 'raw'] as const, Math.max(0, round))) {
          const n = round < 0 ? Math.floor(count / 10) : count;
          const before = fake.received();
          const { usPerRecord, acked } = await cpuRound(n, payloadBytes, callers, async (chunk) =>
            m === 'raw' ? rawPutRecords(raw, 'bench-compare', chunk) : (await (buses[m] as BusLike).sendBatch(chunk)).filter((r) => r.ok).length,
          );
          if (acked !== n || fake.received() - before !== n) {
            console.log(`check FAILED: ${m} at ${payloadBytes} B: ${acked} acknowledged, ${fake.received() - before} received, ${n} sent`);
            ok = false;
          }
          if (round >= 0) (cpu[m] as number[]).push(usPerRecord);
        }
      }
      const baseUs = median(cpu.base as number[]);
      for (const m of ['base', 'head', 'raw'] as const) {
        const label = m === 'base' ? `bus ${base.name}` : m === 'head' ? 'bus working tree' : 'raw PutRecords';
        const pairs = pairedRatios(cpu[m] as number[], cpu.base as number[]);
        rows.push([`${label}, ${payloadBytes} B`, fmt(median(cpu[m] as number[]), 2), (cpu[m] as number[]).map((x) => fmt(x, 2)).join(' / '), ratio(median(cpu[m] as number[]), baseUs), `${pairs.median.toFixed(2)}x`]);
      }
    }
    console.log(table(`CPU per record in this process (microseconds, median of ${rounds} interleaved rounds); "vs base" is CPU against the base build (lower is better)`, ['build', 'µs/record', 'per round', 'vs base', 'paired'], rows));
    console.log('paired: the median over rounds of the round\'s ratio to the base build in the same round (steadier under drift)');
    console.log(ok ? 'check: every record sent was acknowledged and reached the handler' : 'check FAILED');
    return { ok };
  } finally {
    raw.destroy();
    await Promise.all(Object.values(buses).map((b) => b.close()));
  }
}

runIfMain(import.meta.url, () => main());
