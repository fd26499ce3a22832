/**
 * Small filesystem helpers shared by the disk adapters: a private directory,
 * directory fsync, atomic file replacement, and error wording.
 */
import { constants } from 'node:fs';
import { access, chmod, mkdir, open, rename, stat } from 'node:fs/promises';
import { ConfigError, SpoolCorruptError } from '../../src/errors/index.js';
import { diskIo } from './io-seam.js';

/** Mode of every file the disk adapters create: owner read/write only. */
export const FILE_MODE = 0o600;
/** Mode of every directory the disk adapters create: owner only. */
export const DIR_MODE = 0o700;

/** The errno code of a Node filesystem error, if any. */
export function errnoCode(error: unknown): string | undefined {
  if (typeof error === 'object' && error !== null && 'code' in error) {
    const code = (error as { code: unknown }).code;
    return typeof code === 'string' ? code : undefined;
  }
  return undefined;
}

/** A short `CODE: message` description of a filesystem error. */
export function describeFsError(error: unknown): string {
  if (error instanceof Error) return error.message;
  return String(error);
}

/**
 * Create `dir` (mode 0700) or check an existing one: it must be a directory we
 * can read, write and search. Wider permissions are narrowed to 0700.
 * Throws {@link ConfigError} naming `field` and the fix.
 */
export async function ensurePrivateDir(dir: string, field: string): Promise<void> {
  try {
    await mkdir(dir, { recursive: true, mode: DIR_MODE });
  } catch (cause) {
    // mkdir -p fails with EEXIST when `dir` is a file, ENOTDIR when a parent is one: say that, not "cannot create".
    const code = errnoCode(cause);
    if (code === 'EEXIST' && !(await isDirectory(dir))) throw notADirectory(dir, field, cause);
    if (code === 'ENOTDIR') {
      throw new ConfigError(`cannot create the directory ${dir}: part of its path exists and is not a directory (${describeFsError(cause)}); point ${field} at a directory`, { field, cause });
    }
    throw new ConfigError(`cannot create the directory ${dir} (${describeFsError(cause)}); point ${field} at a writable location`, { field, cause });
  }
  const info = await stat(dir);
  if (!info.isDirectory()) throw notADirectory(dir, field);
  if ((info.mode & 0o077) !== 0) {
    try {
      await chmod(dir, DIR_MODE);
    } catch (cause) {
      const mode = (info.mode & 0o777).toString(8);
      throw new ConfigError(`${dir} has mode ${mode} and could not be narrowed to 0700 (${describeFsError(cause)}); run chmod 700 on it as its owner`, { field, cause });
    }
  }
  try {
    await access(dir, constants.R_OK | constants.W_OK | constants.X_OK);
  } catch (cause) {
    throw new ConfigError(`this process cannot read and write ${dir} (${describeFsError(cause)}); fix its owner or permissions, or point ${field} elsewhere`, { field, cause });
  }
}

async function isDirectory(path: string): Promise<boolean> {
  return (await stat(path).catch(() => undefined))?.isDirectory() ?? false;
}

function notADirectory(dir: string, field: string, cause?: unknown): ConfigError {
  return new ConfigError(`${dir} exists and is not a directory; point ${field} at a directory (or move the file away)`, { field, ...(cause === undefined ? {} : { cause }) });
}

/** fsync a directory, so entries created, renamed or removed in it are durable. */
export async function fsyncDir(dir: string): Promise<void> {
  await diskIo.syncDir(dir);
}

/**
 * Replace `path` atomically: write `path.tmp` (mode 0600), fsync it, rename it
 * over `path`, fsync the directory. A crash leaves either the old or the new
 * content, never a mix.
 */
export async function writeFileAtomic(dir: string, path: string, data: string | Uint8Array): Promise<void> {
  const tmp = `${path}.tmp`;
  const handle = await open(tmp, 'w', FILE_MODE);
  try {
    await handle.writeFile(data);
    await diskIo.syncFile(handle, tmp);
  } finally {
    await handle.close();
  }
  await rename(tmp, path);
  await fsyncDir(dir);
}

/** Wrap an I/O failure on a spool file as a {@link SpoolCorruptError} that says what to fix. */
export function ioError(what: string, file: string, cause: unknown): SpoolCorruptError {
  const code = errnoCode(cause);
  const hint =
    code === 'EACCES' || code === 'EPERM'
      ? 'give the spool user read and write access to it (files 0600, directory 0700)'
      : 'check the disk (dmesg, df) and reopen the spool';
  return new SpoolCorruptError(`could not ${what} ${file} (${describeFsError(cause)}); ${hint}`, { cause });
}
