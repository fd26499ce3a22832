/** The `spillway` command line. */
import { readFileSync } from 'node:fs';
import { Command, CommanderError } from 'commander';
import { isSpillwayError } from '../errors/index.js';
import { logLevelFromEnv, parseLogLevel } from '../observability/log-level.js';
import { configCommand } from './config-command.js';
import { drainCommand } from './drain-command.js';
import { drillCommand } from './drill-command.js';
import { spoolCommand } from './spool-command.js';
import { statusCommand } from './status-command.js';

/** This package's version, from the package.json above this file (in src/ or dist/src/). */
function packageVersion(): string {
  for (const up of ['../../package.json', '../../../package.json']) {
    try {
      const pkg = JSON.parse(readFileSync(new URL(up, import.meta.url), 'utf8')) as { name?: string; version?: string };
      if (pkg.name === 'spillway' && pkg.version) return pkg.version;
    } catch {
      // not at this level
    }
  }
  return 'unknown';
}

const program = new Command('spillway')
  .description('Multi-region failover message bus for AWS: drills and tools')
  .version(packageVersion(), '-V, --version', 'print the version')
  .option('--log-level <level>', 'spillway log level on stderr (trace, debug, info, warn, error, fatal, silent); default: SPILLWAY_LOG_LEVEL, else warn')
  .addCommand(drillCommand())
  .addCommand(configCommand())
  .addCommand(spoolCommand())
  .addCommand(drainCommand())
  .addCommand(statusCommand());

// Check the level before any command runs, and hand it to loggers built later (createBus reads SPILLWAY_LOG_LEVEL;
// each command has its own default when neither is given: warn, and error for the drill, whose report is its output).
program.hook('preAction', (root) => {
  const global = root.opts<{ logLevel?: string }>().logLevel;
  if (global !== undefined) process.env.SPILLWAY_LOG_LEVEL = parseLogLevel(global, '--log-level');
  else logLevelFromEnv();
});

// A usage error (an unknown option, a bad value) exits 2 like every other error of spillway's own, not 1, which
// `config check` and `drill` keep for "a tier is unusable" and "a check failed". Commander has printed it already.
(function usageErrorsThrow(command: Command): void {
  command.exitOverride();
  for (const sub of command.commands) usageErrorsThrow(sub);
})(program);

program.parseAsync(process.argv).catch((error: unknown) => {
  if (error instanceof CommanderError) {
    process.exitCode = error.exitCode === 0 ? 0 : 2;
    return;
  }
  const code = isSpillwayError(error) ? ` [${error.code}]` : '';
  process.stderr.write(`spillway: ${error instanceof Error ? error.message : String(error)}${code}\n`);
  process.exitCode = 2;
});
