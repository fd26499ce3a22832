/**
 * The HTML report of a real drill run, opened in headless Chromium (Debian's `chromium`): the timeline
 * charts and the figures (the consumer's among them) must be in the rendered page. Skips, saying why, when no Chromium is installed.
 */
import { execFile, execFileSync } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { runMatrix, selectScenarios } from '../../src/drill/matrix.js';
import { writeHtmlReport } from '../../src/drill/report-html.js';
import { silentLogger } from '../helpers/bus-parts.js';

const run = promisify(execFile);

function findChromium(): string | undefined {
  for (const name of ['chromium', 'chromium-browser', 'google-chrome']) {
    try {
      return execFileSync('sh', ['-c', `command -v ${name}`], { encoding: 'utf8' }).trim();
    } catch {
      // try the next name
    }
  }
  return undefined;
}

const chromium = findChromium();
if (!chromium) console.log('drill-report: skipped: no Chromium on the PATH (apt-get install -y chromium)');

describe.skipIf(!chromium)('drill HTML report in Chromium', () => {
  const dirs: string[] = [];
  afterAll(async () => {
    for (const d of dirs) await rm(d, { recursive: true, force: true });
  });

  it('renders a timeline chart, the checks and the figures of every scenario', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'spillway-report-test-'));
    dirs.push(dir);
    const report = await runMatrix({
      scenarios: selectScenarios(['primary-refusing', 'both-down']),
      backend: { backend: 'embedded', engine: 'kinesalite' },
      // Phases of 1.5 s: the steady phase alone spans two seconds of the chart, so the primary has bars in more than one
      // second whatever the recovery phase holds (writes return to the primary only after the drain).
      settings: { rate: 150, phaseMs: 1_500, shards: 2, paceRecordsPerSecond: 5_000, recoveryTimeoutMs: 60_000, logger: silentLogger },
    });
    await writeHtmlReport(dir, report);
    const json = JSON.parse(await readFile(join(dir, 'report.json'), 'utf8')) as { scenarios: Array<{ name: string; passed: boolean; lost: number; duplicates: number; consumerLost: number; consumerDuplicates: number }> };
    expect(json.scenarios.map((s) => [s.name, s.lost, s.duplicates, s.consumerLost, s.consumerDuplicates])).toEqual([['primary-refusing', 0, 0, 0, 0], ['both-down', 0, 0, 0, 0]]);
    const { stdout: dom } = await run(chromium as string, ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run',
      `--user-data-dir=${join(dir, 'profile')}`, '--dump-dom', `file://${join(dir, 'index.html')}`], { timeout: 60_000, maxBuffer: 64 * 1024 * 1024 });
    for (const s of report.scenarios) {
      const section = dom.slice(dom.indexOf(`<section class="scenario" data-scenario="${s.name}"`));
      expect(section).toMatch(new RegExp(`<svg class="timeline" data-scenario="${s.name}"`));
      const svg = section.slice(0, section.indexOf('</svg>'));
      expect((svg.match(/class="bar-primary"/g) ?? []).length).toBeGreaterThan(1);
      expect(svg).toContain('class="bar-secondary"');
      expect(svg).toContain('class="breaker-open"');
      expect(svg).toContain('class="line-backlog"');
      expect(section).toContain(`data-figure="lost">${s.figures?.lost}</td>`);
      expect(section).toContain(`data-figure="acknowledged">${s.figures?.acknowledged}</td>`);
      expect(section).toContain(`data-figure="writeRtoMs">${s.figures?.writeRtoMs}</td>`);
      expect(section).toContain('data-figure="consumerLost">0</td>');
      expect(section).toContain('data-figure="consumerDuplicates">0</td>');
      expect(section).toContain(`data-figure="consumerReceived">${s.figures?.consumerReceived}</td>`);
    }
    expect(dom).toContain('both-down');
    expect(dom).toMatch(/class="pass">PASS/);
  }, 120_000);
});
