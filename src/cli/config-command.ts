import { readFile } from 'node:fs/promises';
import { Command } from 'commander';
import { parseBusConfig } from '../config/parse.js';
import { ConfigError } from '../errors/index.js';

/** `spillway config check <file>`: validate a JSON configuration file. */
export function configCommand(): Command {
  const config = new Command('config').description('Work with spillway configuration files');
  config
    .command('check')
    .description('Validate a JSON bus configuration and say what to fix')
    .argument('<file>', 'path to a JSON file holding the createBus() options')
    .action(async (file: string) => {
      let raw: unknown;
      try {
        raw = JSON.parse(await readFile(file, 'utf8'));
      } catch (cause) {
        throw new ConfigError(`${file} could not be read as JSON: ${(cause as Error).message}`, { cause });
      }
      const parsed = parseBusConfig(raw);
      const targets = [parsed.primary, ...parsed.secondaries].map((t) => `kinesis:${t.region}:${t.stream}`);
      process.stdout.write(`${file}: valid. Tiers: ${targets.join(' → ')} → disk spool at ${parsed.spool.dir}\n`);
    });
  return config;
}
