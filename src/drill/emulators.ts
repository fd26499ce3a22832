/**
 * Local Kinesis emulators, started as real child processes of `process.execPath`.
 *
 * Used by `spillway drill` and by the integration tests. Two engines are supported:
 * - `kinesalite` (Node, in-memory memdown store; leveldown is not built here),
 * - `kinesis-local` (the Scala.js build of kinesis-mock; only its plain-HTTP port is used).
 *
 * Invariants:
 * - A started emulator has answered an HTTP request on its endpoint before the promise resolves.
 * - Every child is killed with SIGKILL when the parent process exits (`process.on('exit')`);
 *   a parent that is itself SIGKILLed cannot do this, and its children are orphaned.
 * - `stop()` is idempotent and resolves only once the child has exited.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, mkdirSync, type WriteStream } from 'node:fs';
import http from 'node:http';
import { createRequire } from 'node:module';
import net from 'node:net';
import { join } from 'node:path';
import { killOnExit } from './child-processes.js';

/** The emulator implementations this module can start. */
export type KinesisEngine = 'kinesalite' | 'kinesis-local';

/** Options for {@link startKinesisEmulator}. */
export interface StartKinesisEmulatorOptions {
  /** Which emulator to run; `kinesalite` by default. */
  engine?: KinesisEngine;
  /** Port for the plain-HTTP endpoint; a free port is picked (and retried on a clash) when omitted. */
  port?: number;
  /** When set, the child's stdout and stderr are appended to `<logDir>/<engine>-<port>.log`. */
  logDir?: string;
  /** How long to wait for the endpoint to answer; 20 000 ms by default. */
  readyTimeoutMs?: number;
  /**
   * How long `stop()` waits after SIGTERM before it sends SIGKILL: 3 000 ms for kinesalite, which exits at
   * once; 500 ms for kinesis-local, whose graceful shutdown waits for every client keep-alive connection
   * to close (indefinitely, with an SDK client still alive) and which keeps no state worth waiting for.
   */
  stopGraceMs?: number;
}

/** A running emulator child process. */
export interface KinesisEmulator {
  /** The engine that is running. */
  readonly engine: KinesisEngine;
  /** Plain-HTTP endpoint, `http://127.0.0.1:PORT`. */
  readonly endpoint: string;
  /** Process id of the child. */
  readonly pid: number;
  /** SIGTERM, then SIGKILL after the grace period; resolves once the child has exited. */
  stop(): Promise<void>;
}

const HOST = '127.0.0.1';
const TAIL_BYTES = 4096;
const MAX_PORT_ATTEMPTS = 3;
/** Both emulators default to a small account-wide shard limit (10, 50); tests create many streams. */
const SHARD_LIMIT = 10_000;
const requireFromHere = createRequire(import.meta.url);

/**
 * Finds a port that is free on 127.0.0.1 right now, by listening on port 0 and closing.
 * Another process may take it before it is used; callers retry on EADDRINUSE.
 */
export function findFreePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.once('error', reject);
    server.listen(0, HOST, () => {
      const address = server.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      server.close(() => (port > 0 ? resolve(port) : reject(new Error('No port was assigned.'))));
    });
  });
}

/**
 * Starts a Kinesis emulator as a child process and waits until its endpoint answers.
 * Rejects with an error that carries the tail of the child's output if the child exits
 * early or does not answer within `readyTimeoutMs`.
 */
export async function startKinesisEmulator(
  options: StartKinesisEmulatorOptions = {},
): Promise<KinesisEmulator> {
  const attempts = options.port === undefined ? MAX_PORT_ATTEMPTS : 1;
  let lastError: unknown;
  for (let attempt = 1; attempt <= attempts; attempt += 1) {
    const port = options.port ?? (await findFreePort());
    try {
      return await startOnPort(options, port);
    } catch (error) {
      lastError = error;
      if (!(error instanceof Error) || !/EADDRINUSE|already in use/i.test(error.message)) throw error;
    }
  }
  throw lastError;
}

async function startOnPort(options: StartKinesisEmulatorOptions, port: number): Promise<KinesisEmulator> {
  const engine = options.engine ?? 'kinesalite';
  const { args, env } = await commandFor(engine, port);
  const child = spawn(process.execPath, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
  killOnExit(child);
  const output = captureOutput(child, options.logDir, `${engine}-${port}.log`);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const endpoint = `http://${HOST}:${port}`;
  const graceMs = options.stopGraceMs ?? (engine === 'kinesalite' ? 3000 : 500);
  const stop = memoize(() => stopChild(child, exited, graceMs));
  try {
    await waitUntilReady(child, port, options.readyTimeoutMs ?? 20_000);
  } catch (error) {
    await stop();
    const reason = error instanceof Error ? error.message : String(error);
    throw new Error(`The ${engine} emulator on port ${port} did not start: ${reason}\n${output.tail()}`, {
      cause: error,
    });
  }
  return { engine, endpoint, pid: child.pid ?? -1, stop };
}

async function commandFor(
  engine: KinesisEngine,
  port: number,
): Promise<{ args: string[]; env: NodeJS.ProcessEnv }> {
  if (engine === 'kinesalite') {
    const cli = resolveEmulatorEntry('kinesalite');
    const args = [cli, '--port', String(port), '--createStreamMs', '0', '--deleteStreamMs', '0', '--updateStreamMs', '0',
      '--shardLimit', String(SHARD_LIMIT)];
    return { args, env: { ...process.env } };
  }
  const main = resolveEmulatorEntry('kinesis-local');
  const durations = ['CREATE_STREAM', 'DELETE_STREAM', 'REGISTER_STREAM_CONSUMER', 'DEREGISTER_STREAM_CONSUMER',
    'START_STREAM_ENCRYPTION', 'STOP_STREAM_ENCRYPTION', 'MERGE_SHARDS', 'SPLIT_SHARD', 'UPDATE_SHARD_COUNT',
    'UPDATE_STREAM_MODE'];
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    KINESIS_MOCK_PLAIN_PORT: String(port),
    KINESIS_MOCK_TLS_PORT: String(await findFreePort()),
    KINESIS_MOCK_CERT_PATH: join(main, '..', 'server.json'),
    LOG_LEVEL: 'WARN',
    SHOULD_PERSIST_DATA: 'false',
    SHARD_LIMIT: String(SHARD_LIMIT),
  };
  for (const name of durations) env[`${name}_DURATION`] = '0ms';
  return { args: [main], env };
}

const ENTRY: Record<KinesisEngine, string> = { kinesalite: 'kinesalite/cli.js', 'kinesis-local': 'kinesis-local/main.js' };
const VERSION: Record<KinesisEngine, string> = { kinesalite: '3.3.3', 'kinesis-local': '0.6.2' };

/**
 * The script that runs an emulator engine. The emulators are development tools, not dependencies of a
 * production install: when one is missing this throws an error naming the package to install.
 * `resolve` is the module resolver to use (this module's by default).
 */
export function resolveEmulatorEntry(engine: KinesisEngine, resolve: (id: string) => string = requireFromHere.resolve): string {
  try {
    return resolve(ENTRY[engine]);
  } catch (cause) {
    throw new Error(
      `The embedded drill backend needs the ${engine} emulator, which is a development dependency of spillway and is not installed here (a production install leaves it out). Install it with \`npm install --no-save ${engine}@${VERSION[engine]}\`, or run the drill against LocalStack (--backend localstack, or --endpoint URL).`,
      { cause },
    );
  }
}

interface OutputCapture {
  tail(): string;
}

/** Drains the child's stdout/stderr (so it never blocks), keeping a tail for error messages. */
function captureOutput(child: ChildProcess, logDir: string | undefined, fileName: string): OutputCapture {
  let log: WriteStream | undefined;
  if (logDir !== undefined) {
    mkdirSync(logDir, { recursive: true });
    log = createWriteStream(join(logDir, fileName), { flags: 'a' });
    child.once('exit', () => log?.end());
  }
  const tails = { stdout: '', stderr: '' };
  for (const name of ['stdout', 'stderr'] as const) {
    child[name]?.on('data', (chunk: Buffer) => {
      log?.write(chunk);
      tails[name] = (tails[name] + chunk.toString('utf8')).slice(-TAIL_BYTES);
    });
  }
  return { tail: () => `--- stderr (tail) ---\n${tails.stderr}\n--- stdout (tail) ---\n${tails.stdout}` };
}

async function waitUntilReady(child: ChildProcess, port: number, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let exitCode: string | undefined;
  child.once('exit', (code, signal) => (exitCode = `code ${code ?? 'null'}, signal ${signal ?? 'none'}`));
  child.once('error', (error) => (exitCode = `spawn error: ${error.message}`));
  while (Date.now() < deadline) {
    if (exitCode !== undefined) throw new Error(`the child exited early (${exitCode})`);
    if (await answersHttp(port)) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`no HTTP answer within ${timeoutMs} ms`);
}

/** True when the port answers an (unsigned) ListStreams request with any HTTP response. */
function answersHttp(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const request = http.request({
      host: HOST,
      port,
      method: 'POST',
      path: '/',
      agent: false,
      timeout: 1000,
      headers: { 'content-type': 'application/x-amz-json-1.1', 'x-amz-target': 'Kinesis_20131202.ListStreams' },
    });
    request.once('response', (response) => {
      response.resume();
      resolve(true);
    });
    request.once('timeout', () => request.destroy());
    request.once('error', () => resolve(false));
    request.end('{}');
  });
}

async function stopChild(child: ChildProcess, exited: Promise<void>, graceMs: number): Promise<void> {
  if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null) return;
  child.kill('SIGTERM');
  let timer: NodeJS.Timeout | undefined;
  const grace = new Promise<'timeout'>((resolve) => (timer = setTimeout(() => resolve('timeout'), graceMs)));
  const outcome = await Promise.race([exited.then(() => 'exited' as const), grace]);
  clearTimeout(timer);
  if (outcome === 'timeout') {
    child.kill('SIGKILL');
    await exited;
  }
}

function memoize(run: () => Promise<void>): () => Promise<void> {
  let pending: Promise<void> | undefined;
  return () => (pending ??= run());
}
