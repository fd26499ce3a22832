/**
 * `spillway config check [--config FILE]`: validate a configuration, probe
 * every tier and the shared Redis servers (coordination, dedupe), print what
 * each can do, and exit 0 (usable), 1 (the primary, every fallback, or a
 * configured shared Redis is unusable) or 2 (the configuration is invalid).
 */
import { Command } from 'commander';
import { pino } from 'pino';
import { defaultRegistry } from '../../adapters/registry.js';
import { checkSharedRedis } from '../config/check-redis.js';
import { type CheckedTier, checkSpools, checkTiers, composeTiers } from '../config/compose.js';
import { findConfigFile, loadConfig } from '../config/load.js';
import { parseBusConfig } from '../config/parse.js';
import { configWarnings } from '../config/warnings.js';
import { ConfigError, hasCode } from '../errors/index.js';
import { positiveInt } from './arguments.js';

/** The check never drains, so its tiers never read or write a checkpoint. */
const UNUSED_CHECKPOINTS = { get: async () => undefined, set: async () => undefined, close: async () => undefined };

/** Exit codes of `spillway config check`. */
export const CONFIG_CHECK_EXIT = { usable: 0, unusable: 1, invalid: 2 } as const;

interface CheckOptions {
  config?: string;
  timeoutMs: number;
}

/** The `config` command with its `check` subcommand. */
export function configCommand(): Command {
  const config = new Command('config').description('Work with spillway configuration files');
  config
    .command('check')
    .description('Validate a configuration, probe every tier and spool, and say what to fix')
    .argument('[file]', 'configuration file (same as --config)')
    .option('--config <file>', 'configuration file (default: $SPILLWAY_CONFIG, else ./spillway.config.yaml|.yml|.json)')
    .option('--timeout-ms <ms>', 'how long each tier probe may take', positiveInt, 10_000)
    .action(async (file: string | undefined, opts: CheckOptions) => {
      process.exitCode = await runConfigCheck(opts.config ?? file, opts.timeoutMs, (text) => process.stdout.write(text), (text) => process.stderr.write(text));
    });
  return config;
}

/** Run the check; writes the report with `out`, problems with `err`; resolves with the exit code. */
export async function runConfigCheck(file: string | undefined, timeoutMs: number, out: (text: string) => void, err: (text: string) => void): Promise<number> {
  let path: string;
  let parsed: ReturnType<typeof parseBusConfig>;
  try {
    path = await findConfigFile(file);
    parsed = parseBusConfig(await loadConfig(path));
  } catch (error) {
    if (!hasCode(error, ConfigError.code)) throw error;
    err(`spillway: ${(error as Error).message}\n`);
    return CONFIG_CHECK_EXIT.invalid;
  }
  const logger = pino({ level: 'silent' });
  const tiers = composeTiers(parsed, defaultRegistry, { logger, checkpoints: UNUSED_CHECKPOINTS });
  const durability: string[] = [];
  const checked = [...(await checkTiers(tiers, timeoutMs)), ...(await checkSpools(parsed, defaultRegistry, logger, (w) => durability.push(w)))];
  await Promise.all(tiers.map((t) => t.tier.target.close().catch(() => undefined)));
  const shared = await checkSharedRedis(parsed, timeoutMs);
  out(`${path}: configuration is valid.\n\n${renderTierTable(checked)}\n`);
  if (shared.length > 0) out(`\n${renderSharedTable(shared)}\n`);
  for (const w of configWarnings(parsed)) out(`warning: ${w.message}\n`);
  for (const w of durability) out(`warning: ${w}\n`);
  for (const s of shared) if (s.warning) out(`warning: ${s.warning}\n`);
  const problems = checked.filter((c) => !c.check.writable);
  for (const p of problems) out(`${p.check.error && hasCode(p.check.error, ConfigError.code) ? 'fix' : 'down'}: ${p.check.detail}\n`);
  for (const s of shared) if (!s.writable) out(`down: ${s.detail}\n`);
  const primaryOk = checked.find((c) => c.role === 'primary')?.check.writable === true;
  const fallbackOk = checked.some((c) => c.role !== 'primary' && c.check.writable);
  const sharedDown = shared.filter((s) => !s.writable).map((s) => s.field);
  if (!primaryOk) out('\nFAIL: the primary is not usable.\n');
  else if (!fallbackOk) out('\nFAIL: no fallback tier (secondary or spool) is usable.\n');
  else if (sharedDown.length > 0) out(`\nFAIL: the ${sharedDown.join(' and ')} Redis is not usable (sends work; ${sharedDown.includes('coordination') ? 'drains wait for a lease' : 'drains cannot record what they wrote'}).\n`);
  else out(`\nOK: the primary and ${checked.filter((c) => c.role !== 'primary' && c.check.writable).length} fallback tier(s) are usable.\n`);
  return primaryOk && fallbackOk && sharedDown.length === 0 ? CONFIG_CHECK_EXIT.usable : CONFIG_CHECK_EXIT.unusable;
}

/** The shared Redis servers: field, URL (password hidden), reachable, writable, detail. */
export function renderSharedTable(checked: ReadonlyArray<{ field: string; url: string; reachable: boolean; writable: boolean; detail: string }>): string {
  const yesNo = (b: boolean): string => (b ? 'yes' : 'no');
  return plainTable([['shared redis', 'url', 'reachable', 'writable', 'detail'], ...checked.map((c) => [c.field, c.url, yesNo(c.reachable), yesNo(c.writable), c.writable ? c.detail : 'see below'])]);
}

/** A plain-text table: tier, field, target, reachable, writable, why not. */
export function renderTierTable(checked: readonly CheckedTier[]): string {
  const yesNo = (b: boolean): string => (b ? 'yes' : 'no');
  const rows = [
    ['tier', 'field', 'target', 'reachable', 'writable', 'detail'],
    ...checked.map((c) => [c.role, c.field, c.label, yesNo(c.check.reachable), yesNo(c.check.writable), c.check.writable ? c.check.detail : 'see below']),
  ];
  return plainTable(rows);
}

/** Rows as aligned columns (the last column unpadded), indented two spaces. */
function plainTable(rows: ReadonlyArray<readonly string[]>): string {
  const widths = rows[0]?.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length))) ?? [];
  return rows.map((r) => `  ${r.map((cell, i) => (i === r.length - 1 ? cell : cell.padEnd(widths[i] ?? 0))).join('  ')}`).join('\n');
}
