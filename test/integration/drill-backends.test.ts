/**
 * The drill's backends when something is missing: the embedded emulators in a production install, the
 * LocalStack package, the LocalStack token, a Docker engine. Each failure names what to install or set.
 * The LocalStack backend itself runs only where Docker, the token and the package are all present.
 */
import { execFileSync } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { resolveEmulatorEntry } from '../../src/drill/emulators.js';
import { startLocalStackPair } from '../../src/drill/localstack.js';
import { cli } from '../drills/cli.js';

describe('drill backends', () => {
  it('says which emulator to install when the embedded backend is missing it (a production install)', async () => {
    const empty = await mkdtemp(join(tmpdir(), 'spillway-noemu-'));
    try {
      const resolveFromEmpty = createRequire(join(empty, 'index.js')).resolve;
      expect(() => resolveEmulatorEntry('kinesalite', resolveFromEmpty)).toThrow(/needs the kinesalite emulator.*npm install --no-save kinesalite@3\.3\.3.*--backend localstack/s);
      expect(() => resolveEmulatorEntry('kinesis-local', resolveFromEmpty)).toThrow(/npm install --no-save kinesis-local@0\.6\.2/);
      expect(resolveEmulatorEntry('kinesalite')).toMatch(/kinesalite[/\\]cli\.js$/);
    } finally {
      await rm(empty, { recursive: true, force: true });
    }
  });

  it('asks for LOCALSTACK_AUTH_TOKEN before anything else', async () => {
    await expect(startLocalStackPair({})).rejects.toThrow(/LOCALSTACK_AUTH_TOKEN is not set.*since March 2026/);
  });

  it('names the package to install when @testcontainers/localstack is missing (a real import)', async () => {
    let installed = true;
    try {
      createRequire(import.meta.url).resolve('@testcontainers/localstack');
    } catch {
      installed = false;
    }
    if (installed) {
      console.log('drill-backends: skipped the missing-package case: @testcontainers/localstack is installed here');
      return;
    }
    await expect(startLocalStackPair({ LOCALSTACK_AUTH_TOKEN: 'test-token' })).rejects.toThrow(/needs the @testcontainers\/localstack package.*npm install --no-save @testcontainers\/localstack.*Docker engine/s);
    const { code, stderr } = await cli(['drill', '--backend', 'localstack', '--scenario', 'primary-refusing'], { ...process.env, LOCALSTACK_AUTH_TOKEN: 'test-token' });
    expect(code).toBe(2);
    expect(stderr).toMatch(/npm install --no-save @testcontainers\/localstack/);
  });

  it('says there is no Docker engine when the container runtime cannot be reached', async () => {
    const load = async () => ({
      LocalstackContainer: class {
        withEnvironment() {
          return this;
        }
        async start(): Promise<never> {
          throw new Error('Could not find a working container runtime strategy');
        }
      },
    });
    // A stand-in for the package (not installed here); the error text is the one testcontainers gives.
    await expect(startLocalStackPair({ LOCALSTACK_AUTH_TOKEN: 't' }, load)).rejects.toThrow(/no Docker engine answers.*Start Docker/);
  });

  const docker = (() => {
    try {
      execFileSync('docker', ['info'], { stdio: 'ignore', timeout: 10_000 });
      return true;
    } catch {
      return false;
    }
  })();
  const reason = !docker ? 'no Docker engine' : !process.env.LOCALSTACK_AUTH_TOKEN ? 'LOCALSTACK_AUTH_TOKEN is not set' : undefined;
  if (reason) console.log(`drill-backends: skipped the LocalStack run: ${reason}`);
  it.skipIf(reason !== undefined)('runs a scenario on two LocalStack containers', async () => {
    const { code, stdout } = await cli(['drill', '--backend', 'localstack', '--scenario', 'primary-refusing', '--phase-ms', '1500']);
    expect(stdout).toContain('PASS');
    expect(code).toBe(0);
  }, 600_000);
});
