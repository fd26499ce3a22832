/**
 * Child processes the drill starts (emulators, producers, redis-servers) are
 * SIGKILLed when this process exits, so an interrupted drill or test run
 * leaves none behind. A parent that is itself SIGKILLed cannot do this.
 */
import type { ChildProcess } from 'node:child_process';

const live = new Set<ChildProcess>();
let exitHookInstalled = false;

/** Kill `child` with SIGKILL if it is still running when this process exits. */
export function killOnExit(child: ChildProcess): void {
  live.add(child);
  child.once('exit', () => live.delete(child));
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.on('exit', () => {
    for (const c of live) c.kill('SIGKILL');
  });
}
