/**
 * Shared helpers for the benchmarks: knobs from the environment, statistics,
 * a plain-text table, a JSON payload of a fixed size, and a watchdog that
 * bounds a run's wall time and removes its temp dirs if it has to give up.
 *
 * Benchmarks compare spillway against a baseline in the same run, on the
 * same emulator and disk; ratios, not absolute numbers, are what count.
 */
import { rmSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { pino, type Logger } from 'pino';

// One stderr paragraph per run about Node 22 says nothing about performance.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

/** A positive whole number from the environment, or `fallback`. Throws on garbage so a typo is not silently ignored. */
export function envInt(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isSafeInteger(value) || value <= 0) throw new Error(`${name} must be a positive whole number, got ${JSON.stringify(raw)}`);
  return value;
}

/** True when the module at `moduleUrl` is the script node/tsx was started with. */
export function isMain(moduleUrl: string): boolean {
  const entry = process.argv[1];
  return entry !== undefined && pathToFileURL(resolve(entry)).href === moduleUrl;
}

/** A logger that says nothing (breakers opening on purpose are not news in a benchmark). */
export const quietLogger: Logger = pino({ level: 'silent' });

/** The median of `values` (NaN when empty). */
export function median(values: readonly number[]): number {
  return percentile([...values].sort((a, b) => a - b), 50);
}

/** Nearest-rank percentile of already sorted values (NaN when empty). */
export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  const rank = Math.min(sorted.length, Math.max(1, Math.ceil((p / 100) * sorted.length)));
  return sorted[rank - 1] as number;
}

/** p50 and p99 of a list of latencies. */
export function latencySummary(values: readonly number[]): { p50: number; p99: number; n: number } {
  const sorted = [...values].sort((a, b) => a - b);
  return { p50: percentile(sorted, 50), p99: percentile(sorted, 99), n: sorted.length };
}

/** Time an async function, in milliseconds. */
export async function timed<T>(run: () => Promise<T>): Promise<{ ms: number; value: T }> {
  const started = performance.now();
  const value = await run();
  return { ms: performance.now() - started, value };
}

/** Format a number for a table: thousands separated, `digits` decimals. */
export function fmt(value: number, digits = 0): string {
  if (!Number.isFinite(value)) return 'n/a';
  return value.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
}

/** A ratio as `0.93x`. */
export function ratio(candidate: number, baseline: number): string {
  if (!Number.isFinite(candidate) || !Number.isFinite(baseline) || baseline === 0) return 'n/a';
  return `${(candidate / baseline).toFixed(2)}x`;
}

/**
 * The median of per-round ratios, candidate over baseline, for samples taken
 * in the same interleaved rounds (index k of each is round k): drift that
 * lasts a round moves both sides of a pair, so this is steadier than a ratio
 * of medians on a noisy machine. Also the lowest and highest round's ratio.
 */
export function pairedRatios(candidate: readonly number[], baseline: readonly number[]): { median: number; low: number; high: number } {
  const ratios = candidate.slice(0, baseline.length).map((c, k) => c / (baseline[k] as number)).filter(Number.isFinite);
  return { median: median(ratios), low: Math.min(...ratios), high: Math.max(...ratios) };
}

/** A plain-text table, columns right-aligned except the first. */
export function table(title: string, headers: readonly string[], rows: ReadonlyArray<readonly string[]>): string {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: readonly string[]): string =>
    cells.map((c, i) => (i === 0 ? c.padEnd(widths[i] ?? 0) : c.padStart(widths[i] ?? 0))).join('  ').trimEnd();
  const rule = widths.map((w) => '-'.repeat(w)).join('  ');
  return [title, '', `  ${line(headers)}`, `  ${rule}`, ...rows.map((r) => `  ${line(r)}`), ''].join('\n');
}

/**
 * A JSON object of about `bytes` bytes when stringified (an order-ish event),
 * different for every `i` so nothing can be deduplicated or cached.
 */
export function jsonPayload(i: number, bytes = 200): Record<string, unknown> {
  const base = { orderId: i, customer: `customer-${i % 1000}`, total: (i % 997) * 1.25, currency: 'EUR', ts: 1_700_000_000_000 + i, note: '' };
  const pad = bytes - JSON.stringify(base).length;
  base.note = 'x'.repeat(Math.max(0, pad));
  return base;
}

/** The same payload as UTF-8 bytes (what a raw producer puts on the wire). */
export function jsonBytes(i: number, bytes = 200): Buffer {
  return Buffer.from(JSON.stringify(jsonPayload(i, bytes)), 'utf8');
}

/** Run `steps` in order; interleave order per round so neither side always goes first. */
export function rotate<T>(items: readonly T[], round: number): T[] {
  const k = round % items.length;
  return [...items.slice(k), ...items.slice(0, k)];
}

const liveDirs = new Set<string>();

/** A fresh temp dir under `base` (default `BENCH_DIR` or the OS temp dir); removed by `removeTempDir` or the watchdog. */
export async function makeTempDir(prefix: string, base = process.env.BENCH_DIR ?? tmpdir()): Promise<string> {
  const dir = await mkdtemp(join(base, prefix));
  liveDirs.add(dir);
  return dir;
}

/** Remove a dir made by `makeTempDir`. */
export async function removeTempDir(dir: string): Promise<void> {
  await rm(dir, { recursive: true, force: true });
  liveDirs.delete(dir);
}

/**
 * Bound a benchmark's wall time: after `ms` it prints why, removes the temp
 * dirs still live and exits with code 2 (emulator children are SIGKILLed by
 * their own exit hook). Returns a function that disarms it.
 */
export function watchdog(name: string, ms: number): () => void {
  const timer = setTimeout(() => {
    console.error(`${name}: gave up after ${ms} ms (raise BENCH_TIMEOUT_MS if the machine is this slow); cleaning up and exiting.`);
    for (const dir of liveDirs) rmSync(dir, { recursive: true, force: true });
    process.exit(2);
  }, ms);
  timer.unref();
  return () => clearTimeout(timer);
}

/** The per-script time limit: BENCH_TIMEOUT_MS, default 120 s. */
export function timeLimitMs(): number {
  return envInt('BENCH_TIMEOUT_MS', 120_000);
}

/** Run a script's `main` when it is the entry point, with an exit code for failures. */
export function runIfMain(moduleUrl: string, main: () => Promise<{ ok: boolean }>): void {
  if (!isMain(moduleUrl)) return;
  main().then(
    (result) => {
      process.exitCode = result.ok ? 0 : 1;
    },
    (error: unknown) => {
      console.error(error);
      process.exitCode = 1;
    },
  );
}

/** Run `callers` loops that each take the next unit of `work` until none is left (concurrent callers, as a service has). */
export async function callersOver<T>(work: readonly T[], callers: number, each: (unit: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: callers }, async () => {
      while (next < work.length) await each(work[next++] as T);
    }),
  );
}
