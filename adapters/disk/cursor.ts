/**
 * The spool cursor: the durable "acknowledged up to" position, a small JSON
 * file replaced atomically (tmp + fsync + rename + directory fsync).
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { SpoolCorruptError } from '../../src/errors/index.js';
import { errnoCode, ioError, writeFileAtomic } from './fs-util.js';

/** File name of the cursor inside the spool directory. */
export const CURSOR_FILE = 'CURSOR';

/** A byte position in the spool: segment number and offset inside it. */
export interface SpoolPosition {
  readonly seq: number;
  readonly offset: number;
}

/** Read the cursor; a missing file means nothing was ever acknowledged. */
export async function readCursor(dir: string): Promise<SpoolPosition> {
  const file = join(dir, CURSOR_FILE);
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (cause) {
    if (errnoCode(cause) === 'ENOENT') return { seq: 0, offset: 0 };
    throw ioError('read the spool cursor', file, cause);
  }
  const parsed = parseCursor(text);
  if (parsed === undefined) {
    throw new SpoolCorruptError(
      `the spool cursor ${file} is not valid (${JSON.stringify(text.slice(0, 80))}); ` +
        `delete it to replay every record still in the spool (the reconciler's dedupe drops those already delivered)`,
    );
  }
  return parsed;
}

function parseCursor(text: string): SpoolPosition | undefined {
  try {
    const value = JSON.parse(text) as { version?: unknown; seq?: unknown; offset?: unknown };
    if (value.version !== 1) return undefined;
    if (!isCount(value.seq) || !isCount(value.offset)) return undefined;
    return { seq: value.seq, offset: value.offset };
  } catch {
    return undefined;
  }
}

function isCount(value: unknown): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0;
}

/** Replace the cursor atomically and durably. */
export async function writeCursor(dir: string, position: SpoolPosition): Promise<void> {
  const file = join(dir, CURSOR_FILE);
  try {
    await writeFileAtomic(dir, file, `${JSON.stringify({ version: 1, seq: position.seq, offset: position.offset })}\n`);
  } catch (cause) {
    throw ioError('write the spool cursor', file, cause);
  }
}
