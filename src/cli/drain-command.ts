/**
 * `spillway drain`: drain the spool and the secondaries into the primary by
 * hand, with a progress bar (backlog, rate, ETA); `--dry-run` prints what a
 * drain would replay, coalesce and skip; `--orphans` also drains what other
 * producers left on a shared fallback.
 */
import { SingleBar } from 'cli-progress';
import { Command } from 'commander';
import { pino } from 'pino';
import type { Bus } from '../bus/bus.js';
import { createBus } from '../bus/create-bus.js';
import { findConfigFile, loadConfig } from '../config/load.js';
import { wait } from '../failover/backoff.js';
import { logLevelFromEnv } from '../observability/log-level.js';
import { metricsPortOption, serveMetricsIfAsked } from '../observability/metrics-server.js';
import type { ReconcileSummary } from '../events/bus-events.js';
import type { DrainPlan } from '../reconciler/survey.js';
import { positiveInt } from './arguments.js';

interface DrainFlags {
  metricsPort?: number;
  config?: string;
  dryRun?: boolean;
  orphans?: boolean;
  json?: boolean;
  maxRuns: number;
  skipUnreadable?: boolean;
}

/** The `drain` subcommand. */
export function drainCommand(): Command {
  return new Command('drain')
    .description('Drain the spool and the secondaries into the primary now, with progress')
    .option('-c, --config <file>', 'bus configuration file (YAML or JSON); default $SPILLWAY_CONFIG or ./spillway.config.*')
    .option('--dry-run', 'print what a drain would replay, coalesce and skip; write nothing')
    .option('--orphans', "also drain other producers' records from shared fallbacks (run with those producers stopped)")
    .option('--json', 'print the result as JSON')
    .option('--skip-unreadable', 'drain the other sources now when one cannot be read, instead of waiting behind it (records of a key it holds then arrive after newer ones)')
    .option('--max-runs <n>', 'give up after this many drain runs that fail or cannot read every source (with a growing pause between them)', positiveInt, 5)
    .addOption(metricsPortOption())
    .action(async (flags: DrainFlags) => {
      const config = await loadConfig(await findConfigFile(flags.config));
      const { registry, server } = await serveMetricsIfAsked(flags.metricsPort);
      const bus = await createBus(
        // A source that cannot be read holds the others back for unavailableSourceWaitMs, which a one-off process never outlasts.
        { ...config, reconciler: { ...config.reconciler, enabled: false, ...(flags.skipUnreadable ? { unavailableSourceWaitMs: 0 } : {}) } },
        { logger: pino({ level: logLevelFromEnv() }, pino.destination(2)), ...(flags.orphans ? { orphans: true } : {}), ...(registry ? { registry } : {}) },
      ).catch(async (error: unknown) => {
        await server?.close();
        throw error;
      });
      try {
        if (flags.dryRun) {
          const plan = await bus.plan();
          process.stdout.write(flags.json ? `${JSON.stringify(plan, null, 2)}\n` : renderPlan(plan));
          return;
        }
        const summary = await drainWithProgress(bus, flags.maxRuns, !flags.json && process.stderr.isTTY === true);
        process.stdout.write(flags.json ? `${JSON.stringify(summary, null, 2)}\n` : renderSummary(summary));
        // Not drained: a run failed, or a source could not be read (its records, and those waiting behind it, are still there).
        if (summary.error || summary.unavailable.length > 0) process.exitCode = 1;
      } finally {
        await bus.close();
        await server?.close();
      }
    });
}

/** Totals over every run of a manual drain. */
interface DrainTotals extends ReconcileSummary {
  runs: number;
}

/**
 * Run drains until one writes nothing; a bar on a terminal, a line per run
 * otherwise. The bar starts at the spool's depth (secondaries cannot be
 * counted without reading them a second time) and grows as more is written.
 */
async function drainWithProgress(bus: Bus, maxFailures: number, tty: boolean): Promise<DrainTotals> {
  let total = tty ? Math.max((await bus.stats()).spool.records, 1) : 1;
  const bar = tty ? new SingleBar({ format: 'draining [{bar}] {value}/{total} records | {rate} rec/s | ETA {eta_formatted}', hideCursor: true }) : undefined;
  const started = performance.now();
  const totals: DrainTotals = { runs: 0, written: 0, skippedDuplicates: 0, coalesced: 0, rejected: 0, settled: 0, foreign: 0, otherProducers: 0, durationMs: 0, unavailable: [] };
  let base = 0;
  const onProgress = (p: { written: number }): void => {
    const done = base + p.written;
    const rate = Math.round(done / Math.max(0.001, (performance.now() - started) / 1000));
    if (done > total) {
      total = done;
      bar?.setTotal(total);
    }
    bar?.update(done, { rate });
  };
  bus.events.on('reconciler.progress', onProgress);
  bar?.start(total, 0, { rate: 0 });
  let failures = 0;
  try {
    for (;;) {
      const run = await bus.reconcile();
      totals.runs++;
      accumulate(totals, run);
      base = totals.written;
      if (!bar) process.stderr.write(`drain run ${totals.runs}: ${run.written} written, ${run.skippedDuplicates} skipped, ${run.coalesced} coalesced${run.error ? `; stopped: ${run.error}` : ''}\n`);
      if (run.error || run.unavailable.length > 0) {
        if (++failures >= maxFailures) break;
        await wait(retryPauseMs(failures));
        continue;
      }
      delete totals.error;
      totals.unavailable = [];
      if (run.written === 0) break;
    }
  } finally {
    bar?.stop();
    bus.events.off('reconciler.progress', onProgress);
  }
  totals.durationMs = Math.round(performance.now() - started);
  return totals;
}

/** The pause after the `failures`-th run that did not drain everything: 0.5 s, doubling, at most 10 s. */
function retryPauseMs(failures: number): number {
  return Math.min(10_000, 500 * 2 ** (failures - 1));
}

function accumulate(totals: DrainTotals, run: ReconcileSummary): void {
  totals.written += run.written;
  totals.skippedDuplicates += run.skippedDuplicates;
  totals.coalesced += run.coalesced;
  totals.rejected += run.rejected;
  totals.settled += run.settled;
  totals.foreign += run.foreign;
  totals.otherProducers += run.otherProducers;
  totals.unavailable = [...new Set([...totals.unavailable, ...run.unavailable])];
  if (run.error) totals.error = run.error;
}

function renderPlan(plan: DrainPlan): string {
  const lines = [
    'spillway drain --dry-run: nothing was written',
    '',
    `  in the backlog        ${plan.records}`,
    `  would write           ${plan.toWrite}`,
    `  already in primary    ${plan.alreadyWritten}   (skipped: the dedupe store has them)`,
    `  duplicates            ${plan.duplicates}   (the same id in two places: written once)`,
    `  snapshots coalesced   ${plan.coalesced}   (superseded by a newer snapshot of the same key)`,
    '',
    '  per source',
    ...Object.entries(plan.bySource).map(([id, n]) => `    ${id}  ${n}`),
  ];
  if (plan.oldestSentTime !== undefined) lines.push('', `  sent between ${new Date(plan.oldestSentTime).toISOString()} and ${new Date(plan.newestSentTime ?? plan.oldestSentTime).toISOString()}`);
  if (plan.unsurveyed.length > 0) lines.push('', `  not counted (cannot be read without consuming): ${plan.unsurveyed.join(', ')}`);
  return `${lines.join('\n')}\n`;
}

function renderSummary(t: DrainTotals): string {
  const lines = [
    `spillway drain: ${t.error ? 'STOPPED' : t.unavailable.length > 0 ? 'INCOMPLETE' : 'done'} after ${t.runs} run(s) in ${(t.durationMs / 1000).toFixed(1)} s`,
    `  written ${t.written}, duplicates skipped ${t.skippedDuplicates}, snapshots coalesced ${t.coalesced}, found already in primary ${t.settled}`,
  ];
  if (t.otherProducers > 0) lines.push(`  left for other producers ${t.otherProducers} (drain them with --orphans once those producers are gone)`);
  if (t.unavailable.length > 0) {
    lines.push(`  unavailable: ${t.unavailable.join(', ')} (could not be read; records behind them wait so that no key is replayed out of order, or drain them now with --skip-unreadable)`);
  }
  if (t.error) lines.push(`  stopped: ${t.error}`);
  return `${lines.join('\n')}\n`;
}
