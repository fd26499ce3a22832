/**
 * The drill's temporary directories (`spillway-drill-*`), tracked so that an interrupted drill removes them.
 *
 * Invariants:
 * - Every directory `makeTempDir` returned is removed by `removeTempDir` or, on Ctrl-C, by `removeAllTempDirs`;
 *   a drill killed with SIGKILL cannot do this and leaves them in the OS temp dir.
 */
import { rmSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const live = new Set<string>();

/** Creates `<tmp>/spillway-drill-XXXXXX` and tracks it. */
export async function makeTempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'spillway-drill-'));
  live.add(dir);
  return dir;
}

/** Removes a directory made by {@link makeTempDir}. */
export async function removeTempDir(dir: string): Promise<void> {
  await rm(dir, { recursive: true, force: true });
  live.delete(dir);
}

/** Removes every tracked directory at once (synchronously: it runs while the process is going down). */
export function removeAllTempDirs(): void {
  for (const dir of live) rmSync(dir, { recursive: true, force: true });
  live.clear();
}

/** The directories not yet removed (for tests). */
export function liveTempDirs(): string[] {
  return [...live];
}
