/** The `spillway` command line. */
import { Command } from 'commander';
import { isSpillwayError } from '../errors/index.js';
import { configCommand } from './config-command.js';
import { drainCommand } from './drain-command.js';
import { drillCommand } from './drill-command.js';

const program = new Command('spillway')
  .description('Multi-region failover message bus for AWS: drills and tools')
  .addCommand(drillCommand())
  .addCommand(configCommand())
  .addCommand(drainCommand());

program.parseAsync(process.argv).catch((error: unknown) => {
  const code = isSpillwayError(error) ? ` [${error.code}]` : '';
  process.stderr.write(`spillway: ${error instanceof Error ? error.message : String(error)}${code}\n`);
  process.exitCode = 2;
});
