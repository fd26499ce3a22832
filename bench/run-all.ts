/**
 * Run every benchmark in sequence (`npm run bench`) and print everything,
 * headed by what the machine is. Each benchmark compares spillway against
 * a baseline in the same run; record the ratios, not the absolute numbers.
 *
 *   npx tsx bench/run-all.ts            all of them
 *   npx tsx bench/run-all.ts spool      only those whose name contains "spool"
 */
import { execFileSync } from 'node:child_process';
import { availableParallelism, cpus, tmpdir } from 'node:os';
import { main as aggregationLimits } from './aggregation-limits.js';
import { main as clientOverhead } from './client-overhead.js';
import { main as failoverLatency } from './failover-latency.js';
import { main as fakeThroughput } from './fake-throughput.js';
import { fmt, isMain, table } from './lib.js';
import { main as sendThroughput } from './send-throughput.js';
import { main as spoolAppend } from './spool-append.js';
import { main as redisSpool } from './redis-spool.js';
import { main as consumerThroughput } from './consumer-throughput.js';
import { main as consumerCpu } from './consumer-cpu.js';
import { main as drainMemory } from './drain-memory.js';

const BENCHMARKS: ReadonlyArray<{ name: string; run: () => Promise<{ ok: boolean }> }> = [
  { name: 'send-throughput', run: () => sendThroughput() },
  { name: 'spool-append', run: () => spoolAppend() },
  { name: 'failover-latency', run: () => failoverLatency() },
  { name: 'fake-throughput', run: () => fakeThroughput() },
  { name: 'client-overhead', run: () => clientOverhead() },
  { name: 'aggregation-limits', run: () => aggregationLimits() },
  { name: 'redis-spool', run: () => redisSpool() },
  { name: 'consumer-throughput', run: () => consumerThroughput() },
  { name: 'consumer-cpu', run: () => consumerCpu() },
  { name: 'drain-memory', run: () => drainMemory() },
];

/** A description of the machine, for the record. */
export function machine(): string {
  const dir = process.env.BENCH_DIR ?? tmpdir();
  let disk = 'unknown';
  try {
    disk = execFileSync('df', ['-h', dir], { encoding: 'utf8' }).trim().split('\n').slice(-1)[0] ?? disk;
  } catch {
    // df is missing: say so rather than fail the run.
  }
  return [
    `node ${process.version} on ${process.platform}/${process.arch}`,
    `cpus: ${availableParallelism()} available (${cpus()[0]?.model ?? 'unknown model'})`,
    `disk for temp dirs (${dir}): ${disk.replace(/\s+/g, ' ')}`,
  ].join('\n');
}

/** Run the benchmarks whose names contain one of `filters` (all when empty). */
export async function main(filters: readonly string[] = process.argv.slice(2)): Promise<{ ok: boolean }> {
  const chosen = BENCHMARKS.filter((b) => filters.length === 0 || filters.some((f) => b.name.includes(f)));
  if (chosen.length === 0) throw new Error(`no benchmark matches ${filters.join(', ')}; there are ${BENCHMARKS.map((b) => b.name).join(', ')}`);
  console.log(`spillway benchmarks, ${new Date().toISOString()}\n${machine()}\n`);
  const summary: string[][] = [];
  for (const b of chosen) {
    console.log(`=== ${b.name} ===`);
    const started = performance.now();
    let status: string;
    try {
      status = (await b.run()).ok ? 'ok' : 'FAILED (check)';
    } catch (error) {
      console.error(`${b.name} threw:`, error);
      status = 'FAILED (error)';
    }
    summary.push([b.name, status, fmt((performance.now() - started) / 1000, 1)]);
    console.log('');
  }
  console.log(table('Summary', ['benchmark', 'result', 'seconds'], summary));
  return { ok: summary.every((row) => row[1] === 'ok') };
}

if (isMain(import.meta.url)) {
  main().then(
    (result) => {
      process.exitCode = result.ok ? 0 : 1;
    },
    (error: unknown) => {
      console.error(error instanceof Error ? error.message : error);
      process.exitCode = 1;
    },
  );
}
