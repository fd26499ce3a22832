/**
 * The drill as a user runs it: the real `spillway` bin in a child process (built by `npm test` / `npm ci`).
 * The figures are checked against what the drill recorded independently (per-phase sends against the
 * primary read-back), and a deliberately broken run must exit non-zero.
 */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { silentLogger } from '../helpers/bus-parts.js';
import { runMatrix, selectScenarios } from '../../src/drill/matrix.js';
import { cli } from './cli.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'spillway-drill-test-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

interface ScenarioJson {
  name: string;
  passed: boolean;
  lost: number;
  duplicates: number;
  figures: Record<string, number | null>;
  series: Array<{ primary: number; secondary: number; spool: number }>;
  checks: Array<{ name: string; passed: boolean | null }>;
}

describe('spillway drill', () => {
  it('lists every scenario with one sentence, as text and as JSON', async () => {
    const text = await cli(['drill', '--list']);
    expect(text.code).toBe(0);
    const lines = text.stdout.trim().split('\n');
    expect(lines.length).toBeGreaterThanOrEqual(10);
    for (const line of lines) expect(line).toMatch(/^[a-z-]+\s+\S.*\.$/);
    const json = await cli(['drill', '--list', '--json']);
    const list = JSON.parse(json.stdout) as Array<{ name: string; description: string }>;
    expect(list.map((s) => s.name)).toEqual(lines.map((l) => l.split(/\s+/)[0]));
    expect(list.every((s) => s.description.length > 20)).toBe(true);
  });

  it('runs the region outage and reports nothing lost, with writes on the secondary and the spool', async () => {
    const json = join(dir, 'both-down.json');
    const { code, stdout } = await cli(['drill', '--scenario', 'both-down', '--phase-ms', '1000', '--rate', '200', '--json', json]);
    expect(stdout).toContain('PASS');
    expect(code).toBe(0);
    const report = JSON.parse(await readFile(json, 'utf8')) as { passed: boolean; scenarios: ScenarioJson[] };
    const [s] = report.scenarios;
    expect(s?.name).toBe('both-down');
    expect(s?.lost).toBe(0);
    expect(s?.duplicates).toBe(0);
    const f = s?.figures ?? {};
    // Every acknowledged record is either in the primary or an older snapshot coalesced away.
    expect((f.inPrimary ?? 0) + (f.coalesced ?? 0)).toBe(f.acknowledged);
    const sum = (tier: 'primary' | 'secondary' | 'spool') => (s?.series ?? []).reduce((n, p) => n + p[tier], 0);
    expect(sum('secondary')).toBeGreaterThan(0);
    expect(sum('spool')).toBeGreaterThan(0);
    expect(sum('primary') + sum('secondary') + sum('spool')).toBe(f.acknowledged);
    expect(f.writeRtoMs).not.toBeNull();
  }, 120_000);

  it('fails, and exits 1, when acknowledged records are deliberately dropped (JSON on stdout)', async () => {
    const { code, stdout, stderr } = await cli(['drill', '--scenario', 'primary-refusing', '--phase-ms', '800', '--rate', '150', '--inject-loss', '5', '--json']);
    expect(stderr).toContain('FAIL');
    expect(stderr).toMatch(/FAILED primary-refusing: lost acknowledged records = 5/);
    expect(code).toBe(1);
    const report = JSON.parse(stdout) as { passed: boolean; scenarios: ScenarioJson[] };
    expect(report.passed).toBe(false);
    expect(report.scenarios[0]?.passed).toBe(false);
    expect(report.scenarios[0]?.lost).toBe(5);
    expect(report.scenarios[0]?.figures.rpoMs).toBeGreaterThan(0);
    // By default the drill logs only errors: the report is its output.
    expect(stderr).not.toMatch(/"level":(30|40)/);
  }, 120_000);

  it('logs at the level --log-level asks for', async () => {
    const { code, stderr } = await cli(['--log-level', 'info', 'drill', '--scenario', 'primary-refusing', '--phase-ms', '800', '--rate', '150', '--json']);
    expect(code).toBe(0);
    expect(stderr).toMatch(/"level":30,.*"msg":"Drain completed\./);
  }, 120_000);

  it('names the known scenarios when given an unknown one, and exits 2', async () => {
    const { code, stderr } = await cli(['drill', '--scenario', 'no-such-thing']);
    expect(code).toBe(2);
    expect(stderr).toMatch(/unknown scenario "no-such-thing"; known: primary-refusing, /);
  });

  it("drills a user's configuration, with its limits, and says what is wrong with a bad one", async () => {
    const file = join(dir, 'bus.json');
    await writeFile(file, JSON.stringify({ primary: { kind: 'kinesis', region: 'eu-west-1', stream: 'orders' }, secondaries: [{ kind: 'kinesis', region: 'eu-central-1', stream: 'orders' }],
      spool: { kind: 'disk', dir: '/var/lib/orders-spool' }, breaker: { resetTimeoutMs: 400 }, reconciler: { maxRecordsPerSecond: 250 } }));
    const json = join(dir, 'config.json');
    const good = await cli(['drill', '--config', file, '--scenario', 'primary-refusing', '--phase-ms', '800', '--rate', '150', '--json', json]);
    expect(good.code).toBe(0);
    const report = JSON.parse(await readFile(json, 'utf8')) as { scenarios: ScenarioJson[] };
    expect(report.scenarios[0]?.figures.paceCap).toBe(250);
    await writeFile(file, JSON.stringify({ primary: { kind: 'kinesis', region: 'eu-west-x', stream: 'orders' }, spool: { kind: 'disk', dir: '/x' } }));
    const bad = await cli(['drill', '--config', file]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/primary\.region: "eu-west-x" is not a known AWS region; did you mean "eu-west-1"\?/);
  }, 120_000);

  it('passes on kinesis-local, the engine LocalStack runs', async () => {
    const report = await runMatrix({
      scenarios: selectScenarios(['both-down']),
      backend: { backend: 'embedded', engine: 'kinesis-local' },
      settings: { rate: 150, phaseMs: 800, shards: 2, paceRecordsPerSecond: 5_000, recoveryTimeoutMs: 60_000, logger: silentLogger },
    });
    const [s] = report.scenarios;
    expect(s?.error).toBeUndefined();
    expect(s?.figures?.lost).toBe(0);
    expect(report.passed).toBe(true);
  }, 120_000);
});
