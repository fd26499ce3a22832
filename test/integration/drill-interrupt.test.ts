/**
 * Ctrl-C during a drill: the first stops it and cleans up, a second forces. Either way no child process
 * (emulators, bus children) survives and no `spillway-drill-*` directory is left. The drill runs with its
 * own TMPDIR, which its children inherit, so survivors are found by that variable in /proc/<pid>/environ.
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { waitFor } from '../helpers/emulators.js';
import { bin } from '../drills/cli.js';

async function processesWith(marker: string): Promise<number[]> {
  const pids: number[] = [];
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const environ = await readFile(`/proc/${entry}/environ`, 'utf8').catch(() => '');
    if (environ.includes(marker)) pids.push(Number(entry));
  }
  return pids;
}

async function interruptDrill(scenario: string, phase: string, signals: number): Promise<{ code: number | null; forcedWithinMs: number | undefined; left: string[]; survivors: number[] }> {
  const dir = await mkdtemp(join(tmpdir(), 'spillway-interrupt-'));
  const proc = spawn(process.execPath, [bin, 'drill', '--scenario', scenario, '--phase-ms', '3000', '--rate', '100'], { env: { ...process.env, TMPDIR: dir }, stdio: ['ignore', 'pipe', 'pipe'] });
  try {
    const exited = once(proc, 'exit');
    let stderr = '';
    proc.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    await waitFor(() => stderr.includes(`phase ${phase}`), { timeoutMs: 60_000, intervalMs: 50, message: `the drill to reach phase ${phase}` });
    expect((await readdir(dir)).some((d) => d.startsWith('spillway-drill-'))).toBe(true);
    let forcedWithinMs: number | undefined;
    if (signals > 1) {
      // Freeze every child (emulators, the producer), so that the graceful clean-up cannot finish on its own:
      // stopping a frozen emulator takes its SIGTERM grace (3 s) at the least. Only the forced path exits soon.
      const children = await processesWith(`TMPDIR=${dir}`);
      for (const pid of children) if (pid !== proc.pid) process.kill(pid, 'SIGSTOP');
    }
    proc.kill('SIGINT');
    if (signals > 1) {
      // The second Ctrl-C comes once the first was seen (signals sent together may be delivered as one).
      await waitFor(() => stderr.includes('Ctrl-C again to force'), { timeoutMs: 10_000, intervalMs: 20, message: 'the first Ctrl-C to be seen' });
      const forcedAt = Date.now();
      proc.kill('SIGINT');
      await exited;
      forcedWithinMs = Date.now() - forcedAt;
    }
    const [code] = (await exited) as [number | null];
    await waitFor(async () => (await processesWith(`TMPDIR=${dir}`)).length === 0, { timeoutMs: 10_000, intervalMs: 100, message: 'the drill children to exit' });
    return { code, forcedWithinMs, left: (await readdir(dir)).filter((d) => d.startsWith('spillway-drill-')), survivors: await processesWith(`TMPDIR=${dir}`) };
  } finally {
    // A failed assertion must not leave the drill (or anything it started) running.
    if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGKILL');
    for (const pid of await processesWith(`TMPDIR=${dir}`)) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // it exited in between
      }
    }
    await rm(dir, { recursive: true, force: true });
  }
}

describe('drill interrupted', () => {
  it('stops on the first Ctrl-C, leaving no temp dir and no child process', async () => {
    const r = await interruptDrill('primary-refusing', 'primary-down', 1);
    expect(r.code).toBe(130);
    expect(r.left).toEqual([]);
    expect(r.survivors).toEqual([]);
  }, 120_000);

  it('forces on a second Ctrl-C while the clean-up is stuck, and still leaves nothing behind', async () => {
    const r = await interruptDrill('producer-killed', 'both-down', 2);
    expect(r.code).toBe(130);
    expect(r.forcedWithinMs).toBeLessThan(2_500);
    expect(r.left).toEqual([]);
    expect(r.survivors).toEqual([]);
  }, 120_000);
});
