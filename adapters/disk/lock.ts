/**
 * A pid lock file, so two processes never open the same directory. Created
 * with O_EXCL; a lock whose pid no longer runs is stale and taken over.
 *
 * Known gap: two processes that find the same stale lock at the same instant
 * may both take it over. Spillway runs one process per spool directory.
 */
import { open, readFile, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { ConfigError } from '../../src/errors/index.js';
import { FILE_MODE, describeFsError, errnoCode, fsyncDir } from './fs-util.js';

/** A held lock; release it once. */
export interface DirLock {
  readonly path: string;
  release(): Promise<void>;
}

/**
 * Take `dir/name` for this process. Throws {@link ConfigError} (field
 * `field`) when another live process holds it.
 */
export async function acquireDirLock(dir: string, name: string, field: string): Promise<DirLock> {
  const path = join(dir, name);
  for (let attempt = 0; attempt < 3; attempt += 1) {
    if (await tryCreate(path, field)) {
      await fsyncDir(dir);
      return { path, release: () => unlink(path).catch(() => undefined) };
    }
    const holder = await readHolder(path);
    if (holder !== undefined && isAlive(holder)) {
      throw new ConfigError(
        `${dir} is in use by process ${holder} (lock file ${path}); two processes must not share it. ` +
          `Give each process its own ${field}, or stop process ${holder}. If no such process uses it, delete ${path}`,
        { field },
      );
    }
    await unlink(path).catch(() => undefined);
  }
  throw new ConfigError(`could not take the lock file ${path}: it keeps reappearing; another process is starting on ${dir}`, { field });
}

async function tryCreate(path: string, field: string): Promise<boolean> {
  try {
    const handle = await open(path, 'wx', FILE_MODE);
    try {
      await handle.writeFile(`${process.pid}\n`);
      await handle.sync();
    } finally {
      await handle.close();
    }
    return true;
  } catch (cause) {
    if (errnoCode(cause) === 'EEXIST') return false;
    throw new ConfigError(`could not create the lock file ${path} (${describeFsError(cause)}); make ${field} writable by this process`, { field, cause });
  }
}

async function readHolder(path: string): Promise<number | undefined> {
  try {
    const text = await readFile(path, 'utf8');
    const pid = Number.parseInt(text.trim(), 10);
    return Number.isInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return errnoCode(error) === 'EPERM';
  }
}
