/**
 * A producer's instance id: stable per state directory, so a restarted
 * producer finds its own records on a shared fallback, and distinct between
 * producers that share one. Stored as `<stateDir>/instance-id`, created once
 * (atomically: written to a temp file, fsync'd, then linked into place, so two
 * processes racing on one directory agree on the winner).
 */
import { randomBytes } from 'node:crypto';
import { link, mkdir, open, readFile, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { ConfigError } from '../errors/index.js';

const FILE = 'instance-id';
const VALID = /^[a-z0-9-]{4,64}$/;

/** Read the instance id kept in `stateDir`, creating it on first use. */
export async function loadInstanceId(stateDir: string): Promise<string> {
  const path = join(stateDir, FILE);
  const existing = await readId(path);
  if (existing) return existing;
  await mkdir(stateDir, { recursive: true, mode: 0o700 });
  const id = `p-${randomBytes(6).toString('hex')}`;
  const temp = `${path}.${process.pid}.${randomBytes(4).toString('hex')}`;
  const handle = await open(temp, 'wx', 0o600);
  try {
    await handle.writeFile(`${id}\n`);
    await handle.sync();
  } finally {
    await handle.close();
  }
  try {
    await link(temp, path);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
  } finally {
    await unlink(temp).catch(() => undefined);
  }
  return (await readId(path)) ?? id;
}

async function readId(path: string): Promise<string | undefined> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
  const id = text.trim();
  if (!VALID.test(id)) {
    throw new ConfigError(`${path} does not hold a spillway instance id (4-64 characters of a-z, 0-9, "-"); remove the file to make a new one, or restore it`, { field: 'stateDir' });
  }
  return id;
}
