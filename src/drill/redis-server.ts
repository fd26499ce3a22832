/**
 * A private `redis-server` for the Redis spool scenario: a child process on a free port of 127.0.0.1 with its
 * own temp directory and an append-only file fsynced on every write, so that a SIGKILL loses nothing it
 * acknowledged and a restart on the same port and directory brings the spool back. Tooling only.
 *
 * Invariants:
 * - `close` SIGKILLs the server if it runs and removes its directory; a server still running when this
 *   process exits (a forced Ctrl-C) is SIGKILLed too.
 * - `start` resolves only once the server answers PING (or throws after 15 s).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Redis } from 'ioredis';
import { killOnExit } from './child-processes.js';
import { findFreePort } from './emulators.js';
import { makeTempDir, removeTempDir } from './temp-dirs.js';

/** A running private server. */
export interface DrillRedisServer {
  readonly url: string;
  /** Start (again) on the same port and directory. */
  start(): Promise<void>;
  /** SIGKILL: a crash. Resolves once the process is gone. */
  kill(): Promise<void>;
  close(): Promise<void>;
}

async function answers(port: number): Promise<boolean> {
  const probe = new Redis({ port, host: '127.0.0.1', lazyConnect: true, maxRetriesPerRequest: 0, enableOfflineQueue: false, retryStrategy: () => null });
  probe.on('error', () => undefined);
  try {
    await probe.connect();
    return (await probe.ping()) === 'PONG';
  } catch {
    return false;
  } finally {
    probe.disconnect();
  }
}

/** Starts a private redis-server with `appendonly yes` and `appendfsync always`. */
export async function startDrillRedisServer(): Promise<DrillRedisServer> {
  const dir = await makeTempDir();
  const port = await findFreePort();
  const args = ['--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--save', '', '--daemonize', 'no', '--protected-mode', 'no',
    '--logfile', join(dir, 'redis.log'), '--appendonly', 'yes', '--appendfsync', 'always'];
  let child: ChildProcess | undefined;
  const kill = async (): Promise<void> => {
    const current = child;
    child = undefined;
    if (current === undefined || current.exitCode !== null || current.signalCode !== null) return;
    const exited = once(current, 'exit');
    current.kill('SIGKILL');
    await exited;
  };
  const server: DrillRedisServer = {
    url: `redis://127.0.0.1:${port}`,
    async start() {
      child = spawn('redis-server', args, { stdio: 'ignore' });
      killOnExit(child);
      const deadline = Date.now() + 15_000;
      while (!(await answers(port))) {
        if (Date.now() > deadline || child.exitCode !== null) throw new Error(`redis-server on port ${port} did not answer PING within 15 s (log: ${join(dir, 'redis.log')})`);
        await sleep(50);
      }
    },
    kill,
    async close() {
      await kill();
      await removeTempDir(dir);
    },
  };
  try {
    await server.start();
  } catch (error) {
    await server.close();
    throw error;
  }
  return server;
}
