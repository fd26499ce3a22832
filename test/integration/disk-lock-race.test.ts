/**
 * The spool directory's lock under contention: three processes take and
 * release it as fast as they can, and no two ever hold it at once. Before the
 * lock file was linked into place with its pid already in it, a process could
 * read a just-created empty lock as stale, and one that found the lock gone
 * could unlink a newer process's lock: hundreds of double holds in this test.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const run = promisify(execFile);
const CHILD = new URL('../helpers/lock-child.ts', import.meta.url).pathname;
const ROUNDS = Number(process.env.SPILLWAY_LOCK_ROUNDS ?? 1500);

describe('spool directory lock', () => {
  it('is held by one process at a time while three race for it', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'spillway-lock-race-'));
    try {
      const outs = await Promise.all(
        [0, 1, 2].map(async () => JSON.parse((await run(process.execPath, ['--import', 'tsx', CHILD, dir, String(ROUNDS)])).stdout) as { held: number; refused: number; doubles: number }),
      );
      for (const out of outs) expect(out.held + out.refused).toBe(ROUNDS);
      // Each process got the lock many times: the race was real.
      expect(outs.every((o) => o.held > ROUNDS / 20)).toBe(true);
      expect(outs.map((o) => o.doubles)).toEqual([0, 0, 0]);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }, 120_000);
});
