/** `spillway config check` as a real child process: a Kinesis primary on kinesalite, an unreachable secondary, a disk spool. */
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { stringify } from 'yaml';
import { afterEach, describe, expect, it } from 'vitest';
import { createDiskSpool } from '../../adapters/disk/index.js';
import { findFreePort } from '../../src/drill/emulators.js';
import { FAKE_CREDENTIALS } from '../../src/drill/kinesis-admin.js';
import { useKinesisEmulator } from '../helpers/emulators.js';

const run = promisify(execFile);
const ROOT = resolve(import.meta.dirname, '../..');
const TSX = join(ROOT, 'node_modules/.bin/tsx');
const MAIN = join(ROOT, 'src/cli/main.ts');

describe('spillway config check', () => {
  const kinesis = useKinesisEmulator('kinesalite');
  const dirs: string[] = [];
  afterEach(async () => {
    for (const dir of dirs.splice(0)) await rm(dir, { recursive: true, force: true });
  });

  /** A scratch dir with empty AWS config files, and an environment whose only credentials are the fake ones (or none). */
  async function scratch(credentials: boolean): Promise<{ dir: string; env: NodeJS.ProcessEnv }> {
    const dir = await mkdtemp(join(tmpdir(), 'spillway-check-'));
    dirs.push(dir);
    await writeFile(join(dir, 'aws-config'), '');
    await writeFile(join(dir, 'aws-credentials'), '');
    const env: NodeJS.ProcessEnv = { PATH: process.env.PATH, HOME: dir, AWS_CONFIG_FILE: join(dir, 'aws-config'), AWS_SHARED_CREDENTIALS_FILE: join(dir, 'aws-credentials'), AWS_EC2_METADATA_DISABLED: 'true' };
    if (credentials) Object.assign(env, { AWS_ACCESS_KEY_ID: FAKE_CREDENTIALS.accessKeyId, AWS_SECRET_ACCESS_KEY: FAKE_CREDENTIALS.secretAccessKey });
    return { dir, env };
  }

  async function check(args: string[], env: NodeJS.ProcessEnv, cwd = ROOT, timeout = 60_000): Promise<{ code: number; stdout: string; stderr: string }> {
    try {
      const { stdout, stderr } = await run(TSX, [MAIN, 'config', 'check', ...args], { env, cwd, timeout });
      return { code: 0, stdout, stderr };
    } catch (error) {
      const e = error as { code?: number; stdout?: string; stderr?: string };
      return { code: e.code ?? -1, stdout: e.stdout ?? '', stderr: e.stderr ?? '' };
    }
  }

  async function configFile(dir: string, primaryStream: string, spoolDir = join(dir, 'spool')): Promise<string> {
    const deadPort = await findFreePort();
    const config = {
      primary: { kind: 'kinesis', region: 'us-east-1', stream: primaryStream, endpoint: kinesis.endpoint },
      secondaries: [{ kind: 'kinesis', region: 'us-west-2', stream: primaryStream, endpoint: `http://127.0.0.1:${deadPort}` }],
      spool: { kind: 'disk', dir: spoolDir },
    };
    const path = join(dir, 'spillway.config.yaml');
    await writeFile(path, stringify(config));
    return path;
  }

  it('prints each tier with reachable / writable / why not, and exits 0 when the primary and a fallback are usable', async () => {
    const { dir, env } = await scratch(true);
    const path = await configFile(dir, await kinesis.createStream());
    const { code, stdout } = await check(['--config', path], env);
    expect(stdout).toMatch(/tier\s+field\s+target\s+reachable\s+writable\s+detail/);
    expect(stdout).toMatch(/primary\s+primary\s+kinesis us-east-1\/\S+\s+yes\s+yes\s+stream "\S+" is active/);
    expect(stdout).toMatch(/secondary\s+secondaries\.0\s+kinesis us-west-2\/\S+\s+no\s+no\s+see below/);
    expect(stdout).toMatch(/spool\s+spool\s+disk \S+\s+yes\s+yes\s+opened; holds 0 records/);
    expect(stdout).toMatch(/down: secondaries\.0 \(kinesis us-west-2\/\S+\): not usable now: .*unreachable/);
    expect(stdout).toMatch(/OK: the primary and 1 fallback tier\(s\) are usable/);
    expect(stdout).not.toContain(FAKE_CREDENTIALS.secretAccessKey);
    expect(code).toBe(0);
  });

  it('probes the coordination and dedupe Redis and a Redis spool: says what each keeps, and exits 1 when one does not answer', async () => {
    const { dir, env } = await scratch(true);
    const stream = await kinesis.createStream();
    const deadPort = await findFreePort();
    // The shared Redis at 6379 keeps nothing on disk (started with --save "" --appendonly no).
    const base = {
      primary: { kind: 'kinesis', region: 'us-east-1', stream, endpoint: kinesis.endpoint },
      spool: [{ kind: 'redis', url: 'redis://127.0.0.1:6379', keyPrefix: `check-${stream}` }, { kind: 'disk', dir: join(dir, 'spool') }],
      coordination: { kind: 'redis', url: 'redis://127.0.0.1:6379', keyPrefix: `check-${stream}:` },
    };
    const good = join(dir, 'good.yaml');
    await writeFile(good, stringify(base));
    const ok = await check(['--config', good], env);
    expect(ok.stdout).toMatch(/shared redis\s+url\s+reachable\s+writable\s+detail/);
    expect(ok.stdout).toMatch(/coordination\s+redis:\/\/127\.0\.0\.1:6379\s+yes\s+yes\s+answers; reconciler leases can be written/);
    expect(ok.stdout).toMatch(/warning: coordination\.url \S+ keeps nothing on disk/);
    expect(ok.stdout).toMatch(/warning: spool\.0 \(redis \S+\): .*keeps nothing/i);
    expect(ok.code).toBe(0);

    const bad = join(dir, 'bad.yaml');
    await writeFile(bad, stringify({ ...base, dedupe: { kind: 'redis', url: `redis://:secret@127.0.0.1:${deadPort}` } }));
    const down = await check(['--config', bad], env);
    expect(down.stdout).toMatch(/dedupe\s+redis:\/\/:\*\*\*@127\.0\.0\.1:\d+\s+no\s+no\s+see below/);
    expect(down.stdout).toMatch(/down: dedupe\.url \S+ does not answer .*leave dedupe out/);
    expect(down.stdout).toMatch(/FAIL: the dedupe Redis is not usable/);
    expect(down.stdout).not.toContain('secret');
    expect(down.code).toBe(1);
  });

  it('finishes when a Redis spool does not answer: says so and goes on with the next spool', async () => {
    const { dir, env } = await scratch(true);
    const stream = await kinesis.createStream();
    const deadPort = await findFreePort();
    const path = join(dir, 'redis-down.yaml');
    const config = {
      primary: { kind: 'kinesis', region: 'us-east-1', stream, endpoint: kinesis.endpoint },
      spool: [{ kind: 'redis', url: `redis://127.0.0.1:${deadPort}`, keyPrefix: `check-${stream}` }, { kind: 'disk', dir: join(dir, 'spool') }],
    };
    await writeFile(path, stringify(config));
    // The spool that could not answer was left open and its client kept reconnecting: the check never exited.
    const { code, stdout } = await check(['--config', path, '--timeout-ms', '2000'], env, ROOT, 30_000);
    expect(stdout).toMatch(/spool\s+spool\.0\s+redis \S+\s+no\s+no\s+see below/);
    expect(stdout).toMatch(/spool\s+spool\.1\s+disk \S+\s+yes\s+yes/);
    expect(stdout).toMatch(/OK: the primary and 1 fallback tier\(s\) are usable/);
    expect(code).toBe(0);
  });

  it('exits 1 naming the fix when the primary stream does not exist; finds the file through SPILLWAY_CONFIG', async () => {
    const { dir, env } = await scratch(true);
    const path = await configFile(dir, 'no-such-stream');
    const { code, stdout } = await check([], { ...env, SPILLWAY_CONFIG: path });
    expect(stdout).toMatch(/fix: primary\.stream: stream "no-such-stream" does not exist in us-east-1; create it/);
    expect(stdout).toMatch(/FAIL: the primary is not usable/);
    expect(code).toBe(1);
  });

  it('reports a spool held by a running process as in use, not as a fault', async () => {
    const { dir, env } = await scratch(true);
    const path = await configFile(dir, await kinesis.createStream());
    const running = await createDiskSpool({ dir: join(dir, 'spool') });
    try {
      const { code, stdout } = await check(['--config', path], env);
      expect(stdout).toMatch(new RegExp(`spool\\s+spool\\s+disk \\S+\\s+yes\\s+yes\\s+in use by process ${process.pid} \\(a running bus\\)`));
      expect(code).toBe(0);
    } finally {
      await running.close();
    }
  });

  it('exits 1 when the primary works but every fallback is unusable (secondary down, spool dir is a file)', async () => {
    const { dir, env } = await scratch(true);
    const notADir = join(dir, 'not-a-dir');
    await writeFile(notADir, 'x');
    const path = await configFile(dir, await kinesis.createStream(), notADir);
    const { code, stdout } = await check(['--config', path], env);
    expect(stdout).toMatch(/spool\s+spool\s+disk \S+\s+no\s+no/);
    expect(stdout).toMatch(/FAIL: no fallback tier \(secondary or spool\) is usable/);
    expect(code).toBe(1);
  });

  it('exits 1 naming the tier and where the chain looked when no credentials resolve (positional file)', async () => {
    const { dir, env } = await scratch(false);
    const path = await configFile(dir, await kinesis.createStream());
    const { code, stdout } = await check([path], env);
    expect(stdout).toMatch(/fix: primary \(kinesis us-east-1\/\S+\): no AWS credentials could be resolved .*looked at: environment variables/);
    expect(code).toBe(1);
  });

  it('exits 2 for an invalid configuration, naming the field and the closest valid value', async () => {
    const { dir, env } = await scratch(true);
    const path = join(dir, 'bad.json');
    await writeFile(path, JSON.stringify({ stream: 'orders', regions: ['us-esat-1'], spool: { kind: 'disk', dir } }));
    const { code, stderr } = await check(['--config', path], env);
    expect(stderr).toMatch(/regions\.0: "us-esat-1" is not a known AWS region; did you mean "us-east-1"\?/);
    expect(code).toBe(2);
    await writeFile(path, JSON.stringify({ primary: { kind: 'kinesis', region: 'us-east-1', stream: 'o', credentials: FAKE_CREDENTIALS }, spool: { kind: 'disk', dir } }));
    const secret = await check(['--config', path], env);
    expect(secret.stderr).toMatch(/primary\.credentials may not be written in a configuration file/);
    expect(secret.stderr).not.toContain(FAKE_CREDENTIALS.secretAccessKey);
    expect(secret.code).toBe(2);
  });
});
