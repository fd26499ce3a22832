/**
 * A reserve file (`RESERVE`, 64 KiB) kept in the spool directory so that
 * acknowledging records still works on a full filesystem: moving the cursor
 * writes a new CURSOR file before the acknowledged segments can be deleted,
 * and on a full disk that write fails with ENOSPC. The spool then deletes
 * the reserve, writes the cursor, deletes the segments (which frees the
 * space), and makes the reserve again.
 */
import { open, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { writeCursor, type SpoolPosition } from './cursor.js';
import { FILE_MODE, errnoCode } from './fs-util.js';
import { isNoSpace } from './segment-writer.js';

/** File name of the reserve inside the spool directory. */
export const RESERVE_FILE = 'RESERVE';
const RESERVE_BYTES = 64 * 1024;

/** Make sure the reserve exists; false when there is no room for it (the spool works without one). */
export async function ensureReserve(dir: string): Promise<boolean> {
  const file = join(dir, RESERVE_FILE);
  let handle;
  try {
    handle = await open(file, 'wx', FILE_MODE);
  } catch (cause) {
    return errnoCode(cause) === 'EEXIST';
  }
  try {
    await handle.write(Buffer.alloc(RESERVE_BYTES), 0, RESERVE_BYTES, 0);
    await handle.sync();
    return true;
  } catch {
    await handle.close().catch(() => undefined);
    await unlink(file).catch(() => undefined);
    return false;
  } finally {
    await handle.close().catch(() => undefined);
  }
}

/** Delete the reserve to make room; false when there was none. */
export async function releaseReserve(dir: string): Promise<boolean> {
  try {
    await unlink(join(dir, RESERVE_FILE));
    return true;
  } catch {
    return false;
  }
}

/**
 * Write the cursor; when the disk is full, delete the reserve and try once
 * more. True when the reserve was spent (make it again once segments are gone).
 */
export async function writeCursorWithReserve(dir: string, pos: SpoolPosition): Promise<boolean> {
  try {
    await writeCursor(dir, pos);
    return false;
  } catch (error) {
    // A full disk must not stop acks, the only thing that frees it.
    if (!isNoSpace(error) || !(await releaseReserve(dir))) throw error;
    await writeCursor(dir, pos);
    return true;
  }
}
