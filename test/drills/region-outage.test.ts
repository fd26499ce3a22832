/**
 * The drill itself, as a user runs it: the real `spillway` bin in a child
 * process (built by `npm test` / `npm ci`), and the drill function in process
 * on kinesis-local.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { runDrill } from '../../src/drill/run-drill.js';
import { silentLogger } from '../helpers/bus-parts.js';

const run = promisify(execFile);
const bin = join(import.meta.dirname, '../../bin/spillway.js');

async function cli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, [bin, ...args], { timeout: 120_000 });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const e = error as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

describe('spillway drill', () => {
  it('runs from the command line and reports nothing lost', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'spillway-drill-test-'));
    try {
      const json = join(dir, 'result.json');
      const { code, stdout } = await cli(['drill', '--phase-ms', '1200', '--rate', '250', '--json', json]);
      expect(stdout).toMatch(/lost\s+0\s/);
      expect(stdout).toContain('PASS');
      expect(code).toBe(0);
      const result = JSON.parse(await readFile(json, 'utf8'));
      expect(result.counts.acknowledged).toBe(result.counts.sent);
      expect(result.counts.sent).toBeGreaterThan(800);
      const phase = (name: string) => result.phases.find((p: { name: string }) => p.name === name);
      expect(phase('primary-down').secondary).toBeGreaterThan(0);
      expect(phase('both-down').spool).toBeGreaterThan(0);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }, 120_000);

  it('passes on kinesis-local, the engine LocalStack runs', async () => {
    const result = await runDrill({ engine: 'kinesis-local', rate: 200, phaseMs: 1_000, shards: 2, paceRecordsPerSecond: 5_000, recoveryTimeoutMs: 60_000, logger: silentLogger });
    expect(result.passed).toBe(true);
    expect(result.counts.lost).toBe(0);
    expect(result.counts.inPrimary + result.counts.coalesced).toBe(result.counts.acknowledged + result.counts.duplicated);
  }, 120_000);

  it('says what is wrong with a configuration file, and exits 2', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'spillway-config-test-'));
    try {
      const file = join(dir, 'bad.json');
      await writeFile(file, JSON.stringify({ primary: { kind: 'kinesis', region: 'eu-west-x', stream: 'orders' }, spool: { kind: 'disk', dir: '/x' } }));
      const bad = await cli(['config', 'check', file]);
      expect(bad.code).toBe(2);
      expect(bad.stderr).toMatch(/primary\.region: "eu-west-x" is not a known AWS region; did you mean "eu-west-1"\?/);
      // A valid file is probed tier by tier: test/integration/config-check.test.ts.
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
