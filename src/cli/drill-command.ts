import { writeFile } from 'node:fs/promises';
import { Command, InvalidArgumentError, Option } from 'commander';
import { pino } from 'pino';
import { renderDrillReport } from '../drill/report.js';
import { runDrill } from '../drill/run-drill.js';

function positiveInt(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n <= 0) throw new InvalidArgumentError('expected a positive whole number');
  return n;
}

/** `spillway drill`: the region-outage drill on embedded emulators. */
export function drillCommand(): Command {
  return new Command('drill')
    .description('Run a region-outage drill on embedded Kinesis emulators and prove nothing acknowledged was lost')
    .addOption(new Option('--engine <engine>', 'Kinesis emulator to run').choices(['kinesalite', 'kinesis-local']).default('kinesalite'))
    .option('--rate <records/s>', 'records sent per second', positiveInt, 400)
    .option('--phase-ms <ms>', 'length of each phase', positiveInt, 3_000)
    .option('--shards <n>', 'shards per stream', positiveInt, 2)
    .option('--pace <records/s>', 'reconciler ceiling, records per second', positiveInt, 2_000)
    .option('--timeout-ms <ms>', 'how long to wait for the drain', positiveInt, 120_000)
    .option('--json <file>', 'also write the full result as JSON')
    .option('--log-level <level>', 'spillway log level on stderr', 'error')
    .action(async (opts: { engine: 'kinesalite' | 'kinesis-local'; rate: number; phaseMs: number; shards: number; pace: number; timeoutMs: number; json?: string; logLevel: string }) => {
      // Ctrl-C: exit through process 'exit', which stops the emulator child processes.
      for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => process.exit(130));
      const result = await runDrill({
        engine: opts.engine,
        rate: opts.rate,
        phaseMs: opts.phaseMs,
        shards: opts.shards,
        paceRecordsPerSecond: opts.pace,
        recoveryTimeoutMs: opts.timeoutMs,
        logger: pino({ name: 'spillway', level: opts.logLevel }, pino.destination(2)),
        onProgress: (line) => process.stderr.write(`${line}\n`),
      });
      process.stdout.write(renderDrillReport(result));
      if (opts.json) await writeFile(opts.json, `${JSON.stringify(result, null, 2)}\n`);
      process.exitCode = result.passed ? 0 : 1;
    });
}
