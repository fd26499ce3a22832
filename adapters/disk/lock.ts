/**
 * A pid lock file, so two processes never open the same directory. Created
 * with O_EXCL; a lock whose pid no longer runs is stale and taken over. A
 * lock holding this process's own pid is stale too unless this process holds
 * it (tracked in memory): a restarted container often gets the pid its
 * crashed predecessor had (pid 1). A second open in the same process is
 * refused from memory, before the file is touched.
 *
 * The lock file appears with its pid already in it: the pid is written to a
 * file of this process's own and hard-linked into place (`link` fails when the
 * name exists, as O_EXCL does), so no other process ever reads a lock file
 * that is still empty and takes it for stale. Where the filesystem has no
 * hard links, it is created with O_EXCL and then written, and a process that
 * reads it in between may still take it for stale. A lock file found gone
 * (released meanwhile) is never unlinked: the name may already be a newer
 * process's lock.
 *
 * Known gap: two processes that find the same stale lock at the same instant
 * may both take it over. Spillway runs one process per spool directory.
 */
import { randomUUID } from 'node:crypto';
import { link, open, readFile, unlink } from 'node:fs/promises';
import { resolve } from 'node:path';
import { ConfigError } from '../../src/errors/index.js';
import { FILE_MODE, describeFsError, errnoCode, fsyncDir } from './fs-util.js';

/** A held lock; release it once. */
export interface DirLock {
  readonly path: string;
  release(): Promise<void>;
}

/** Resolved paths of the lock files this process holds right now. */
const heldHere = new Set<string>();

/**
 * Take `dir/name` for this process. Throws {@link ConfigError} (field
 * `field`) when another live process, or this one, holds it.
 */
export async function acquireDirLock(dir: string, name: string, field: string): Promise<DirLock> {
  const path = resolve(dir, name);
  if (heldHere.has(path)) throw inUse(dir, path, field, process.pid);
  heldHere.add(path); // before any await: a concurrent open in this process is refused above
  try {
    await takeFile(dir, path, field);
  } catch (error) {
    heldHere.delete(path);
    throw error;
  }
  let released: Promise<void> | undefined;
  const release = async (): Promise<void> => {
    await unlink(path).catch(() => undefined);
    heldHere.delete(path);
  };
  return { path, release: () => (released ??= release()) };
}

/** Create the lock file, taking over a stale one; the caller has checked that this process does not hold it. */
async function takeFile(dir: string, path: string, field: string): Promise<void> {
  for (let attempt = 0; attempt < 3; attempt += 1) {
    if (await tryCreate(path, field)) {
      await fsyncDir(dir);
      return;
    }
    const holder = await readHolder(path);
    // Released between our create and our read: try again, and never unlink what may be a newer process's lock.
    if (holder === 'gone') continue;
    if (holder !== undefined && holder !== process.pid && isAlive(holder)) throw inUse(dir, path, field, holder);
    await unlink(path).catch(() => undefined);
  }
  throw new ConfigError(`could not take the lock file ${path}: it keeps reappearing; another process is starting on ${dir}`, { field });
}

function inUse(dir: string, path: string, field: string, holder: number): ConfigError {
  if (holder === process.pid) {
    return new ConfigError(
      `${dir} is already open in this process (process ${holder}, lock file ${path}); open it once and share that instance, ` +
        `or give each user its own ${field}`,
      { field },
    );
  }
  return new ConfigError(
    `${dir} is in use by process ${holder} (lock file ${path}); two processes must not share it. ` +
      `Give each process its own ${field}, or stop process ${holder}. If no such process uses it, delete ${path}`,
    { field },
  );
}

/** Errors of `link` on filesystems without hard links: fall back to O_EXCL. */
const NO_HARD_LINKS = new Set(['EPERM', 'ENOTSUP', 'EOPNOTSUPP', 'ENOSYS', 'EXDEV']);

/** Create the lock file holding this pid; false when it exists. */
async function tryCreate(path: string, field: string): Promise<boolean> {
  const own = `${path}.${process.pid}.${randomUUID().slice(0, 8)}`;
  try {
    await writePid(own, 'w');
    try {
      await link(own, path);
      return true;
    } catch (cause) {
      if (errnoCode(cause) === 'EEXIST') return false;
      if (!NO_HARD_LINKS.has(errnoCode(cause) ?? '')) throw cause;
    }
    await writePid(path, 'wx');
    return true;
  } catch (cause) {
    if (errnoCode(cause) === 'EEXIST') return false;
    throw new ConfigError(`could not create the lock file ${path} (${describeFsError(cause)}); make ${field} writable by this process`, { field, cause });
  } finally {
    await unlink(own).catch(() => undefined);
  }
}

async function writePid(path: string, flags: 'w' | 'wx'): Promise<void> {
  const handle = await open(path, flags, FILE_MODE);
  try {
    await handle.writeFile(`${process.pid}\n`);
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/** The pid in the lock file; `gone` when there is no file any more; undefined when it holds no pid (stale). */
async function readHolder(path: string): Promise<number | 'gone' | undefined> {
  try {
    const text = await readFile(path, 'utf8');
    const pid = Number.parseInt(text.trim(), 10);
    return Number.isInteger(pid) && pid > 0 ? pid : undefined;
  } catch (error) {
    return errnoCode(error) === 'ENOENT' ? 'gone' : undefined;
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
