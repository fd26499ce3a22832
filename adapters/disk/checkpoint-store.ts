/**
 * Drain checkpoints on local disk: one JSON file holding every key, replaced
 * atomically (tmp + fsync + rename + directory fsync) before `set` resolves.
 * Concurrent `set`s share one write.
 */
import { readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { CheckpointStore } from '../../src/contracts/stores.js';
import { ClosedError, ConfigError, SpoolCorruptError, ValidationError } from '../../src/errors/index.js';
import { createCoalescer } from './coalescer.js';
import { ensurePrivateDir, errnoCode, ioError, writeFileAtomic } from './fs-util.js';
import { acquireDirLock } from './lock.js';

/** Options for {@link createDiskCheckpointStore}. */
export interface DiskCheckpointStoreOptions {
  /** Directory for `checkpoints.json` (created with mode 0700). One process per directory. */
  dir: string;
}

/** File name of the checkpoints inside the directory. */
export const CHECKPOINT_FILE = 'checkpoints.json';

/**
 * Open (or create) the checkpoint store in `options.dir`. Throws
 * {@link ConfigError} for an unusable or locked directory and
 * {@link SpoolCorruptError} for a checkpoint file it cannot parse.
 */
export async function createDiskCheckpointStore(options: DiskCheckpointStoreOptions): Promise<CheckpointStore> {
  if (typeof options?.dir !== 'string' || options.dir.length === 0) {
    throw new ConfigError('the checkpoint store needs a dir: the directory for checkpoints.json', { field: 'stateDir' });
  }
  const dir = resolve(options.dir);
  await ensurePrivateDir(dir, 'stateDir');
  const lock = await acquireDirLock(dir, 'checkpoints.lock', 'stateDir');
  const file = join(dir, CHECKPOINT_FILE);
  let values: Map<string, string>;
  try {
    values = await loadCheckpoints(file);
  } catch (error) {
    await lock.release();
    throw error;
  }
  const writer = createCoalescer(async () => {
    const body = JSON.stringify({ version: 1, values: Object.fromEntries(values) });
    try {
      await writeFileAtomic(dir, file, `${body}\n`);
    } catch (cause) {
      throw ioError('write the checkpoints', file, cause);
    }
  });
  let closing: Promise<void> | undefined;
  const assertOpen = (): void => {
    if (closing !== undefined) throw new ClosedError(`checkpoint store ${dir} is closed`);
  };
  return {
    async get(key) {
      assertOpen();
      return values.get(key);
    },
    async set(key, value) {
      assertOpen();
      if (typeof key !== 'string' || typeof value !== 'string') throw new ValidationError('checkpoint keys and values must be strings');
      values.set(key, value);
      await writer.request();
    },
    close() {
      closing ??= writer.idle().finally(() => lock.release());
      return closing;
    },
  };
}

async function loadCheckpoints(file: string): Promise<Map<string, string>> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (cause) {
    if (errnoCode(cause) === 'ENOENT') return new Map();
    throw ioError('read the checkpoints', file, cause);
  }
  try {
    const parsed = JSON.parse(text) as { version?: unknown; values?: unknown };
    if (parsed.version === 1 && typeof parsed.values === 'object' && parsed.values !== null) {
      const entries = Object.entries(parsed.values as Record<string, unknown>);
      if (entries.every(([, v]) => typeof v === 'string')) return new Map(entries as Array<[string, string]>);
    }
  } catch {
    // reported below
  }
  throw new SpoolCorruptError(
    `the checkpoint file ${file} is not valid; move it aside to inspect it. Without it, draining restarts ` +
      `from the oldest records still retained (the reconciler's dedupe drops those already delivered)`,
  );
}
