/**
 * The whole embedded matrix through the real bin at small counts (about 500 records a scenario), as CI runs it: every scenario runs and
 * passes (nothing lost or doubled in the primary nor by the drill's consumer), and the report directory holds the page and the JSON.
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
    const report = JSON.parse(await readFile(join(dir, 'out', 'report.json'), 'utf8')) as { scenarios: Array<{ name: string; passed: boolean; skipped?: string; error?: string; checks: Array<{ name: string; value: unknown; passed: boolean | null; detail?: string }>; lost: number; duplicates: number; consumerLost: number | null; consumerDuplicates: number | null }> };
    expect(report.scenarios.map((s) => s.name)).toEqual(SCENARIOS.map((s) => s.name));
    for (const s of report.scenarios) {
      const failed = s.checks.filter((c) => c.passed === false).map((c) => `${c.name} = ${c.value}${c.detail ? ` (${c.detail})` : ''}`);
      expect({ name: s.name, passed: s.passed, error: s.error, failed }).toEqual({ name: s.name, passed: true, error: undefined, failed: [] });
    }
    const ran = report.scenarios.filter((s) => !s.skipped);
    for (const s of ran) expect({ name: s.name, lost: s.lost, duplicates: s.duplicates, consumerLost: s.consumerLost, consumerDuplicates: s.consumerDuplicates }).toEqual({ name: s.name, lost: 0, duplicates: 0, consumerLost: 0, consumerDuplicates: 0 });
    for (const s of report.scenarios.filter((r) => r.skipped)) console.log(`drill matrix: ${s.name} skipped: ${s.skipped}`);
    expect(await readFile(join(dir, 'out', 'index.html'), 'utf8')).toContain('<svg class="timeline"');
    expect(code, stderr.slice(-2000)).toBe(0);
    expect(stdout).toContain('PASS: every check held.');
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}, 300_000);
