import { join } from 'node:path';
import { ConfigError } from '../errors/index.js';
import type { BusConfig } from './schema.js';

/**
 * Where a bus keeps its dedupe journal, drain checkpoints, instance id and
 * status file: `stateDir`, else `<dir>/state` of the first spool with a `dir`.
 */
export function stateDirOf(config: BusConfig): string {
  if (config.stateDir) return config.stateDir;
  const withDir = config.spools.find((s) => typeof (s as { dir?: unknown }).dir === 'string') as { dir: string } | undefined;
  if (!withDir) throw new ConfigError('stateDir is required when no spool has a dir: set stateDir to a local directory for the dedupe journal and checkpoints', { field: 'stateDir' });
  return join(withDir.dir, 'state');
}

/** The directories of the chain's disk spools (spools with a `dir`). */
export function spoolDirsOf(config: BusConfig): string[] {
  return config.spools.flatMap((s) => (typeof (s as { dir?: unknown }).dir === 'string' ? [(s as { dir: string }).dir] : []));
}
