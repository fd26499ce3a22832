/**
 * Reading a configuration file: `spillway.config.yaml` (or `.yml`) or
 * `spillway.config.json`, found by `--config FILE`, `SPILLWAY_CONFIG`, or in
 * the working directory; environment overrides applied; validated at once.
 */
import { access, readFile } from 'node:fs/promises';
import { extname, join, resolve } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { defaultRegistry, type TierRegistry } from '../../adapters/registry.js';
import { ConfigError, hasCode } from '../errors/index.js';
import { applyEnvOverrides } from './env.js';
import { parseBusConfig } from './parse.js';
import type { BusConfigInput } from './schema.js';

/** Options for {@link loadConfig} and {@link findConfigFile}. */
export interface LoadConfigOptions {
  /** Environment for overrides and `SPILLWAY_CONFIG` (default `process.env`). */
  env?: NodeJS.ProcessEnv;
  /** Kinds the file may use (default: every registered kind). */
  registry?: TierRegistry;
}

/** File names looked for in the working directory, in order. */
export const CONFIG_FILE_NAMES = ['spillway.config.yaml', 'spillway.config.yml', 'spillway.config.json'] as const;

/**
 * The configuration file to use: `explicit` (from `--config`), else
 * `SPILLWAY_CONFIG`, else the first of {@link CONFIG_FILE_NAMES} in `cwd`.
 * Throws a {@link ConfigError} when none is found.
 */
export async function findConfigFile(explicit: string | undefined, options: LoadConfigOptions & { cwd?: string } = {}): Promise<string> {
  const env = options.env ?? process.env;
  if (explicit) return resolve(explicit);
  if (env.SPILLWAY_CONFIG) return resolve(env.SPILLWAY_CONFIG);
  const cwd = options.cwd ?? process.cwd();
  for (const name of CONFIG_FILE_NAMES) {
    const path = join(cwd, name);
    if (await access(path).then(() => true, () => false)) return path;
  }
  throw new ConfigError(`no configuration file: pass --config FILE, set SPILLWAY_CONFIG, or create ${CONFIG_FILE_NAMES.join(' or ')} in ${cwd}`, { field: '(file)' });
}

/**
 * Read, override from the environment, and validate a configuration file
 * (YAML for `.yaml`/`.yml`, JSON otherwise). Resolves with the configuration
 * for `createBus`; throws a {@link ConfigError} naming the file, the field and
 * the fix (and the variable, when an override set the bad value).
 */
export async function loadConfig(path: string, options: LoadConfigOptions = {}): Promise<BusConfigInput> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (cause) {
    throw new ConfigError(`configuration file ${path} could not be read: ${(cause as Error).message}`, { field: '(file)', cause });
  }
  const raw = parseText(path, text);
  refuseSecrets(path, raw);
  const { config, sources } = applyEnvOverrides(raw, options.env ?? process.env);
  try {
    parseBusConfig(config, options.registry ?? defaultRegistry);
  } catch (error) {
    if (!hasCode(error, ConfigError.code)) throw error;
    const field = (error as ConfigError).field ?? '(root)';
    const variable = sources.get(field);
    const from = variable ? ` (the value comes from the environment variable ${variable})` : '';
    throw new ConfigError(`${path}: ${(error as Error).message}${from}`, { field, cause: error });
  }
  return config as BusConfigInput;
}

function parseText(path: string, text: string): unknown {
  const yaml = ['.yaml', '.yml'].includes(extname(path).toLowerCase());
  try {
    return yaml ? parseYaml(text, { prettyErrors: true }) : JSON.parse(text);
  } catch (cause) {
    const what = yaml ? 'YAML' : 'JSON';
    throw new ConfigError(`configuration file ${path} is not valid ${what}: ${(cause as Error).message.split('\n')[0]}; fix the syntax at the place named`, { field: '(file)', cause });
  }
}

/** Credentials come from the AWS provider chain or from code, never from a file that may be committed or shared. */
function refuseSecrets(path: string, raw: unknown): void {
  if (typeof raw !== 'object' || raw === null) return;
  const r = raw as Record<string, unknown>;
  const places: Array<[string, unknown]> = [['', r], ['primary.', r.primary], ...(Array.isArray(r.secondaries) ? r.secondaries.map((t, i): [string, unknown] => [`secondaries.${i}.`, t]) : [])];
  for (const [prefix, obj] of places) {
    if (typeof obj === 'object' && obj !== null && 'credentials' in obj) {
      throw new ConfigError(
        `${path}: ${prefix}credentials may not be written in a configuration file; remove it and let the AWS provider chain find credentials (AWS_PROFILE, AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, an instance or task role), or pass credentials from code`,
        { field: `${prefix}credentials` },
      );
    }
  }
}
