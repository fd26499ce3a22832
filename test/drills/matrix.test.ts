/**
 * The whole embedded matrix through the real bin at small counts (about 500 records a scenario), as CI runs it: every scenario runs and
 * passes, and the report directory holds the page and the JSON.
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { SCENARIOS } from '../../src/drill/scenarios/index.js';
import { cli } from './cli.js';

it('runs every scenario of the embedded matrix and passes', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'spillway-matrix-test-'));
  try {
    const started = Date.now();
    const { code, stdout, stderr } = await cli(['drill', '--records', '500', '--rate', '150', '--report', join(dir, 'out')], process.env, 300_000);
    console.log(`drill matrix: ${SCENARIOS.length} scenarios in ${((Date.now() - started) / 1000).toFixed(0)} s`);
    const report = JSON.parse(await readFile(join(dir, 'out', 'report.json'), 'utf8')) as { scenarios: Array<{ name: string; passed: boolean; skipped?: string; error?: string; lost: number; duplicates: number }> };
    expect(report.scenarios.map((s) => s.name)).toEqual(SCENARIOS.map((s) => s.name));
    for (const s of report.scenarios) expect({ name: s.name, passed: s.passed, error: s.error }).toEqual({ name: s.name, passed: true, error: undefined });
    expect(report.scenarios.filter((s) => !s.skipped).every((s) => s.lost === 0 && s.duplicates === 0)).toBe(true);
    expect(await readFile(join(dir, 'out', 'index.html'), 'utf8')).toContain('<svg class="timeline"');
    expect(code, stderr.slice(-2000)).toBe(0);
    expect(stdout).toContain('PASS: every check held.');
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}, 300_000);
