/**
 * Quarantine: bytes of a segment that failed their checks are copied to
 * `<spool dir>/quarantine/<segment>.<offset>.bad` (0600, fsync'd with its
 * directory) before the spool reads past them. The spool never deletes these
 * copies; they are for the operator (see docs/spools.md).
 */
import { mkdir, readdir, stat } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { DIR_MODE, errnoCode, fsyncDir, ioError, writeFileAtomic } from './fs-util.js';

/** Name of the quarantine directory inside a spool directory. */
export const QUARANTINE_DIR = 'quarantine';

/** A run of bytes in a segment that is not a valid frame, followed by a valid frame or the end of the file. */
export interface DamagedRange {
  /** Byte offset in the segment where the damage begins. */
  readonly offset: number;
  /** Offset just past it: the next valid frame, or the end of the file. */
  readonly end: number;
  /** What the first check found, e.g. a CRC mismatch. */
  readonly reason: string;
  /** Path of the quarantine copy. */
  quarantinedAs?: string;
}

/** Copy `bytes`, found at `offset` of `segmentFile`, into the spool's quarantine directory; returns the copy's path. */
export async function quarantineBytes(dir: string, segmentFile: string, offset: number, bytes: Uint8Array): Promise<string> {
  const qdir = join(dir, QUARANTINE_DIR);
  const path = join(qdir, `${basename(segmentFile)}.${offset}.bad`);
  try {
    let created = true;
    await mkdir(qdir, { mode: DIR_MODE }).catch((cause: unknown) => {
      if (errnoCode(cause) !== 'EEXIST') throw cause;
      created = false;
    });
    if (created) await fsyncDir(dir);
    await writeFileAtomic(qdir, path, bytes);
  } catch (cause) {
    throw ioError('copy damaged spool bytes to the quarantine file', path, cause);
  }
  return path;
}

/** The quarantine copies in a spool directory, oldest segment first. */
export async function listQuarantine(dir: string): Promise<Array<{ file: string; bytes: number }>> {
  const qdir = join(dir, QUARANTINE_DIR);
  let names: string[];
  try {
    names = await readdir(qdir);
  } catch (cause) {
    if (errnoCode(cause) === 'ENOENT') return [];
    throw ioError('list the spool quarantine directory', qdir, cause);
  }
  const out: Array<{ file: string; bytes: number }> = [];
  for (const name of names.filter((n) => n.endsWith('.bad')).sort()) {
    const file = join(qdir, name);
    out.push({ file, bytes: (await stat(file)).size });
  }
  return out;
}

/** Where reading continues from `offset` of a segment: past every damaged range that starts there. */
export function skipDamage(damaged: readonly DamagedRange[] | undefined, offset: number): number {
  if (damaged === undefined) return offset;
  let at = offset;
  for (let moved = true; moved; ) {
    moved = false;
    for (const range of damaged) {
      if (range.offset === at && range.end > at) {
        at = range.end;
        moved = true;
      }
    }
  }
  return at;
}

/** The start of the first damaged range after `offset` (reads stop there), or `limit`. */
export function nextDamage(damaged: readonly DamagedRange[] | undefined, offset: number, limit: number): number {
  if (damaged === undefined) return limit;
  let next = limit;
  for (const range of damaged) if (range.offset > offset && range.offset < next) next = range.offset;
  return next;
}
