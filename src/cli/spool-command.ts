/**
 * `spillway spool inspect DIR|URL` and `spillway spool verify DIR`: look at a
 * spool without changing it.
 */
import { Command } from 'commander';
import { inspectRedisSpool } from '../../adapters/redis/index.js';
import { inspectDiskSpool, type DiskSpoolReport } from '../../adapters/disk/inspect.js';
import type { SpoolCipher } from '../contracts/spool.js';
import { createSpoolCipher, parseSpoolKey } from '../crypto/spool-cipher.js';
import { ConfigError } from '../errors/index.js';

interface KeyOptions {
  keyEnv?: string;
  json?: boolean;
}

function cipherFrom(options: KeyOptions, spool: string): SpoolCipher | undefined {
  const name = options.keyEnv;
  if (name === undefined) return undefined;
  const value = process.env[name];
  if (value === undefined || value === '') {
    throw new ConfigError(`--key-env ${name}: the environment variable ${name} is not set; export the 32-byte spool key in it`, { field: '--key-env' });
  }
  return createSpoolCipher(parseSpoolKey(value, `the environment variable ${name} (--key-env)`), spool);
}

const when = (ms: number | undefined): string => (ms === undefined ? '-' : new Date(ms).toISOString());

/** The report as lines of text. */
export function renderSpoolReport(report: DiskSpoolReport): string {
  const lines = [
    `spool ${report.dir}`,
    `  records     ${report.records} not yet acknowledged (${report.bytes} bytes) in ${report.segments} segment(s)`,
    `  event time  oldest ${when(report.oldestEventTime)}, newest ${when(report.newestEventTime)}`,
  ];
  if (report.sealedRecords > 0) lines.push(`  encrypted   ${report.sealedRecords} record(s) sealed with AES-256-GCM${report.oldestEventTime === undefined ? ' (pass --key-env to read their event times)' : ''}`);
  lines.push(`  quarantined ${report.quarantined.files} damaged range(s), ${report.quarantined.bytes} bytes, in ${report.dir}/quarantine`);
  for (const f of report.findings) lines.push(`  ${f.kind.padEnd(9)} ${f.file} at byte ${f.offset} (${f.bytes} bytes): ${f.reason}`);
  return `${lines.join('\n')}\n`;
}

/** Redis spools are inspected by the Redis adapter. */
async function inspectRedis(url: string, options: KeyOptions & { keyPrefix: string }): Promise<void> {
  const cipher = cipherFrom(options, url);
  const report = await inspectRedisSpool(url, { keyPrefix: options.keyPrefix, ...(cipher === undefined ? {} : { cipher }) });
  process.stdout.write(options.json === true || typeof report !== 'string' ? `${JSON.stringify(report, null, 2)}\n` : report);
}

/** `spillway spool`: inspect and verify spools. */
export function spoolCommand(): Command {
  const spool = new Command('spool').description('Look at a spool without changing it');
  spool
    .command('inspect')
    .description('Records, bytes, oldest and newest event time, segments and quarantined records of a disk spool directory or a redis:// spool')
    .argument('<dir-or-url>', 'the spool directory (spool.dir), or a redis:// URL')
    .option('--key-env <name>', 'environment variable holding the encryption key (32 bytes, hex or base64)')
    .option('--key-prefix <prefix>', 'the Redis spool key prefix (spool.keyPrefix)', 'spillway')
    .option('--json', 'print the report as JSON')
    .action(async (target: string, options: KeyOptions & { keyPrefix: string }) => {
      if (/^rediss?:\/\//.test(target)) return inspectRedis(target, options);
      const report = await inspectDiskSpool(target, withCipher(options, target));
      process.stdout.write(options.json === true ? `${JSON.stringify(report, null, 2)}\n` : renderSpoolReport(report));
    });
  spool
    .command('verify')
    .description('Check every checksum of a disk spool; exit 1 and print file and offset of any damage')
    .argument('<dir>', 'the spool directory (spool.dir)')
    .option('--key-env <name>', 'environment variable holding the encryption key, to check every record decrypts too')
    .action(async (dir: string, options: KeyOptions) => {
      const report = await inspectDiskSpool(dir, withCipher(options, dir));
      for (const f of report.findings) process.stdout.write(`${f.kind} ${f.file} at byte ${f.offset} (${f.bytes} bytes): ${f.reason}\n`);
      const bad = report.findings.filter((f) => f.kind !== 'torn-tail').length;
      process.stdout.write(
        bad === 0
          ? `ok: ${report.records} record(s) in ${report.segments} segment(s) of ${report.dir} pass their checks\n`
          : `damaged: ${bad} problem(s) in ${report.dir}; the spool quarantines and skips them when it opens (see docs/spools.md)\n`,
      );
      process.exitCode = bad === 0 ? 0 : 1;
    });
  return spool;
}

function withCipher(options: KeyOptions, spool: string): { cipher?: SpoolCipher } {
  const cipher = cipherFrom(options, spool);
  return cipher === undefined ? {} : { cipher };
}
