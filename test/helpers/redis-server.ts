/**
 * A private `redis-server` child process for tests that need persistence, a
 * restart, a crash (SIGKILL) or a server they can stop, slow or fill: its own
 * free port on 127.0.0.1 and its own temp directory, removed on cleanup.
 * The shared Redis at 127.0.0.1:6379 is for tests that need none of that.
 * Free of vitest, so the benchmarks use it too.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { findFreePort } from '../../src/drill/emulators.js';

/** How to start the server. */
export interface RedisServerOptions {
  /** `appendonly yes` with this `appendfsync`; undefined = no AOF (and no RDB): keeps nothing on disk. */
  appendfsync?: 'always' | 'everysec' | 'no';
  /** More `--name value` pairs. */
  args?: string[];
}

/** A running private server. */
export interface RedisServer {
  readonly port: number;
  readonly url: string;
  readonly dir: string;
  /** The running child (replaced by `start`). */
  readonly process: ChildProcess | undefined;
  /** Start (again) on the same port and directory; resolves once it answers PING. */
  start(): Promise<void>;
  /** SHUTDOWN NOSAVE by SIGTERM, and wait for the exit. */
  stop(): Promise<void>;
  /** SIGKILL: a crash; waits for the exit. */
  kill(): Promise<void>;
  /** A plain client for test set-up (CONFIG SET, CLIENT PAUSE…); closed on cleanup. */
  admin(): Redis;
  /** Kill if running, close admin clients, remove the directory. */
  cleanup(): Promise<void>;
}

/** Start a private redis-server (see {@link RedisServerOptions}). */
export async function startRedisServer(options: RedisServerOptions = {}): Promise<RedisServer> {
  const dir = await mkdtemp(join(tmpdir(), 'spillway-redis-'));
  const port = await findFreePort();
  const args = [
    '--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--save', '', '--daemonize', 'no',
    '--enable-debug-command', 'yes', '--protected-mode', 'no', '--logfile', join(dir, 'redis.log'),
    ...(options.appendfsync === undefined ? ['--appendonly', 'no'] : ['--appendonly', 'yes', '--appendfsync', options.appendfsync]),
    ...(options.args ?? []),
  ];
  let child: ChildProcess | undefined;
  const admins: Redis[] = [];
  const exit = async (signal: NodeJS.Signals): Promise<void> => {
    const current = child;
    if (current === undefined || current.exitCode !== null || current.signalCode !== null) return;
    const exited = once(current, 'exit');
    current.kill(signal);
    await exited;
    child = undefined;
  };
  const server: RedisServer = {
    port,
    url: `redis://127.0.0.1:${port}`,
    dir,
    get process() {
      return child;
    },
    async start() {
      child = spawn('redis-server', args, { stdio: 'ignore' });
      await waitFor(async () => {
        const probe = new Redis({ port, host: '127.0.0.1', lazyConnect: true, maxRetriesPerRequest: 0, enableOfflineQueue: false, retryStrategy: () => null });
        probe.on('error', () => undefined);
        try {
          await probe.connect();
          return (await probe.ping()) === 'PONG';
        } finally {
          probe.disconnect();
        }
      }, { timeoutMs: 15_000, message: `redis-server on port ${port}` });
    },
    stop: () => exit('SIGTERM'),
    kill: () => exit('SIGKILL'),
    admin() {
      const client = new Redis({ port, host: '127.0.0.1', maxRetriesPerRequest: 1 });
      client.on('error', () => undefined);
      admins.push(client);
      return client;
    },
    async cleanup() {
      for (const client of admins.splice(0)) client.disconnect();
      await exit('SIGKILL');
      await rm(dir, { recursive: true, force: true });
    },
  };
  await server.start();
  return server;
}

/** A private Redis Cluster of `size` masters (no replicas), each a {@link RedisServer}. */
export interface RedisClusterFixture {
  readonly nodes: readonly RedisServer[];
  /** A url of the first node (a cluster client discovers the rest). */
  readonly url: string;
  cleanup(): Promise<void>;
}

/** Start `size` cluster-enabled servers and join them with `redis-cli --cluster create`. */
export async function startRedisCluster(size = 3): Promise<RedisClusterFixture> {
  const nodes: RedisServer[] = [];
  const cleanup = async (): Promise<void> => {
    for (const node of nodes) await node.cleanup();
  };
  try {
    for (let i = 0; i < size; i += 1) {
      nodes.push(await startRedisServer({ appendfsync: 'always', args: ['--cluster-enabled', 'yes', '--cluster-node-timeout', '2000'] }));
    }
    const create = spawn('redis-cli', ['--cluster', 'create', ...nodes.map((n) => `127.0.0.1:${n.port}`), '--cluster-replicas', '0', '--cluster-yes'], { stdio: 'ignore' });
    const [code] = (await once(create, 'exit')) as [number | null];
    if (code !== 0) throw new Error(`redis-cli --cluster create exited with ${String(code)}`);
    const first = nodes[0]!.admin();
    await waitFor(async () => /cluster_state:ok/.test(String(await first.call('CLUSTER', 'INFO'))), { timeoutMs: 15_000, message: 'the cluster to be ok' });
    return { nodes, url: nodes[0]!.url, cleanup };
  } catch (error) {
    await cleanup();
    throw error;
  }
}

/** Poll `check` until it is true or `timeoutMs` passes (errors count as "not yet"). */
async function waitFor(check: () => Promise<boolean>, options: { timeoutMs: number; message: string }): Promise<void> {
  const deadline = Date.now() + options.timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      if (await check()) return;
    } catch (error) {
      last = error;
    }
    if (Date.now() >= deadline) throw new Error(`Timed out after ${options.timeoutMs} ms waiting for ${options.message}.`, { cause: last });
    await new Promise((r) => setTimeout(r, 25));
  }
}
