/** `spillway drill`: the failover scenario matrix on embedded emulators or LocalStack. */
import { writeFile } from 'node:fs/promises';
import { Command, Option } from 'commander';
import { pino } from 'pino';
import { ConfigError } from '../errors/index.js';
import { loadUserConfig } from '../drill/drill-config.js';
import type { BackendOptions } from '../drill/environment.js';
import { type DrillReport, runMatrix, selectScenarios } from '../drill/matrix.js';
import { createProgressDisplay } from '../drill/progress.js';
import { reportJson, writeHtmlReport } from '../drill/report-html.js';
import { renderTextReport } from '../drill/report-text.js';
import { SCENARIOS } from '../drill/scenarios/index.js';
import { removeAllTempDirs } from '../drill/temp-dirs.js';
import { logLevelFromEnv } from '../observability/log-level.js';
import { nonNegativeInt, positiveInt } from './arguments.js';

interface DrillFlags {
  scenario: string[];
  list?: boolean;
  json?: string | true;
  report?: string;
  records?: number;
  rate: number;
  config?: string;
  backend: 'embedded' | 'localstack';
  engine: 'kinesalite' | 'kinesis-local';
  endpoint: string[];
  phaseMs: number;
  shards: number;
  pace: number;
  timeoutMs: number;
  injectLoss: number;
}

/** The `drill` command. */
export function drillCommand(): Command {
  return new Command('drill')
    .description('Run failover drills (faults injected per region) and prove nothing acknowledged was lost')
    .option('--scenario <name>', 'run this scenario (repeatable; default: all)', (v: string, all: string[]) => [...all, v], [])
    .option('--list', 'list the scenarios, one per line')
    .option('--json [file]', 'write the full result as JSON to file (stdout when no file is given)')
    .option('--report <dir>', 'write dir/index.html and dir/report.json')
    .option('--records <n>', 'about this many records per scenario (sets the phase length from the rate)', positiveInt)
    .option('--rate <records/s>', 'records sent per second', positiveInt, 200)
    .option('--config <file>', "drill this bus configuration (YAML or JSON): its tiers, spool and limits, with the drill's endpoints")
    .addOption(new Option('--backend <backend>', 'where the regions run').choices(['embedded', 'localstack']).default('embedded'))
    .addOption(new Option('--engine <engine>', 'Kinesis emulator of the embedded backend').choices(['kinesalite', 'kinesis-local']).default('kinesalite'))
    .option('--endpoint <url>', 'use a LocalStack already running for both regions; given twice: primary, then secondary region', (v: string, all: string[]) => [...all, v], [])
    .option('--phase-ms <ms>', 'length of a phase unit', positiveInt, 1_500)
    .option('--shards <n>', 'shards per stream', positiveInt, 2)
    .option('--pace <records/s>', 'reconciler ceiling, records per second (without --config)', positiveInt, 2_000)
    .option('--timeout-ms <ms>', 'how long to wait for a drain', positiveInt, 120_000)
    .addOption(new Option('--inject-loss <n>', 'drop n acknowledged records from the verification, to prove the checks fail').argParser(nonNegativeInt).default(0).hideHelp())
    .action(async (flags: DrillFlags) => {
      if (flags.list) return listScenarios(flags.json !== undefined);
      const scenarios = selectScenarios(flags.scenario);
      const userConfig = flags.config ? await loadUserConfig(flags.config) : undefined;
      const abort = new AbortController();
      installInterruptHandlers(abort);
      const display = createProgressDisplay(process.stderr, scenarios.length);
      const unit = flags.records ? Math.max(200, Math.round((flags.records * 1000) / (flags.rate * 4))) : flags.phaseMs;
      let report: DrillReport;
      try {
        report = await runMatrix({
          scenarios,
          backend: backendOf(flags),
          ...(flags.config ? { configFile: flags.config } : {}),
          settings: {
            rate: flags.rate, phaseMs: unit, shards: flags.shards, paceRecordsPerSecond: flags.pace, recoveryTimeoutMs: flags.timeoutMs,
            // The report is the drill's output: its own logs stay at error unless --log-level or SPILLWAY_LOG_LEVEL asks for more.
            logger: pino({ name: 'spillway', level: logLevelFromEnv('error') }, pino.destination(2)),
            ...(userConfig ? { userConfig } : {}), injectLoss: flags.injectLoss, signal: abort.signal,
            onProgress: (p) => display.progress(p),
          },
          onScenario: (e) => display.scenario(e),
        });
      } catch (error) {
        if (!abort.signal.aborted) throw error;
        process.stderr.write('spillway drill: interrupted; every child process was stopped and every temp dir removed\n');
        process.exitCode = 130;
        return;
      } finally {
        display.stop();
      }
      await emit(report, flags);
      process.exitCode = report.passed ? 0 : 1;
    });
}

function listScenarios(asJson: boolean): void {
  if (asJson) process.stdout.write(`${JSON.stringify(SCENARIOS.map((s) => ({ name: s.name, description: s.description })), null, 2)}\n`);
  else process.stdout.write(SCENARIOS.map((s) => `${s.name.padEnd(22)} ${s.description}\n`).join(''));
}

function backendOf(flags: DrillFlags): BackendOptions {
  const [first, second, ...rest] = flags.endpoint;
  if (rest.length > 0) throw new ConfigError('--endpoint: at most two (the primary region, then the secondary region)', { field: 'endpoint' });
  for (const url of flags.endpoint) {
    if (!URL.canParse(url) || !/^https?:$/.test(new URL(url).protocol)) {
      throw new ConfigError(`--endpoint ${JSON.stringify(url)} is not an http(s) URL; give LocalStack's, e.g. http://localhost:4566`, { field: 'endpoint' });
    }
  }
  if (first) return { backend: 'endpoint', urls: second ? [first, second] : [first] };
  return flags.backend === 'localstack' ? { backend: 'localstack' } : { backend: 'embedded', engine: flags.engine };
}

async function emit(report: DrillReport, flags: DrillFlags): Promise<void> {
  const jsonToStdout = flags.json === true;
  (jsonToStdout ? process.stderr : process.stdout).write(renderTextReport(report));
  const json = `${JSON.stringify(reportJson(report), null, 2)}\n`;
  if (jsonToStdout) process.stdout.write(json);
  else if (typeof flags.json === 'string') await writeFile(flags.json, json);
  if (flags.report) {
    await writeHtmlReport(flags.report, report);
    (jsonToStdout ? process.stderr : process.stdout).write(`Report written to ${flags.report}/index.html\n`);
  }
}

/**
 * First Ctrl-C: stop the scenario, which releases its producer, proxies, emulators and temp dirs on the way
 * out. A second Ctrl-C forces: temp dirs removed at once, the process exits (its exit hook kills children).
 */
function installInterruptHandlers(abort: AbortController): void {
  let interrupts = 0;
  const onSignal = (): void => {
    interrupts += 1;
    if (interrupts === 1) {
      process.stderr.write('\nspillway drill: stopping and cleaning up (Ctrl-C again to force)\n');
      abort.abort(new Error('the drill was interrupted'));
      process.exitCode = 130;
      return;
    }
    removeAllTempDirs();
    process.exit(130);
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
}
