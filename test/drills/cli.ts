/** Runs the real `spillway` bin (built into dist/) in a child process. */
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);
/** The bin a user runs. */
export const bin = join(import.meta.dirname, '../../bin/spillway.js');

/** Exit code, stdout and stderr of `spillway ...args`. */
export async function cli(args: string[], env: NodeJS.ProcessEnv = process.env, timeout = 240_000): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, [bin, ...args], { timeout, env, maxBuffer: 64 * 1024 * 1024 });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const e = error as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}
