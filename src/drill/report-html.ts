/**
 * The drill's HTML report: one self-contained page (inline CSS and SVG, no scripts, no network) with, per
 * scenario, the verdict, the timeline chart, the checks, the figures and the timeline of events.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Figures } from './checks.js';
import type { DrillReport } from './matrix.js';
import { legendHtml, renderTimelineSvg } from './report-chart.js';
import type { ScenarioResult } from './scenario-run.js';

const esc = (s: string): string => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

const FIGURES: Array<[keyof Figures, string, string]> = [
  ['sent', 'sent', ''], ['acknowledged', 'acknowledged', ''], ['lost', 'lost', 'must be 0'], ['duplicates', 'duplicates in primary', 'must be 0'],
  ['consumerLost', 'lost by the consumer', 'must be 0'], ['consumerDuplicates', 'duplicates seen by the consumer', 'must be 0'], ['consumerReceived', 'handled by the consumer', ''],
  ['orderViolations', 'per-key order violations', ''], ['coalesced', 'snapshots coalesced', ''], ['fallbackWrites', 'writes on a fallback', ''],
  ['writeRtoMs', 'write RTO (ms)', 'fault to first fallback ack'], ['worstSwitchLatencyMs', 'worst send during the switch (ms)', ''],
  ['drainMs', 'drain duration (ms)', ''], ['drainRate', 'drain rate (records/s)', ''], ['paceCap', 'configured cap (records/s)', ''], ['rpoMs', 'RPO (ms)', 'must be 0'],
];

/** The page for a whole drill. */
export function renderHtmlReport(report: DrillReport): string {
  const verdict = report.passed ? '<span class="pass">PASS</span>' : '<span class="fail">FAIL</span>';
  const summary = report.scenarios.map((r) => `<tr><td><a href="#${esc(r.name)}">${esc(r.name)}</a></td><td>${badge(r)}</td><td>${r.figures?.lost ?? '-'}</td><td>${r.figures?.duplicates ?? '-'}</td><td>${r.figures?.consumerLost ?? '-'}</td><td>${r.figures?.consumerDuplicates ?? '-'}</td><td>${r.figures?.writeRtoMs ?? '-'}</td><td>${r.figures?.drainRate ?? '-'}</td></tr>`).join('');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>spillway drill report</title><style>${CSS}</style></head>
<body><h1>spillway drill ${verdict}</h1>
<p class="meta">${esc(report.backend)} · started ${esc(report.startedAt)} · ${(report.durationMs / 1000).toFixed(1)} s · ${report.settings.rate} records/s · phase ${report.settings.phaseMs} ms${report.settings.config ? ` · config ${esc(report.settings.config)}` : ''}${report.settings.injectLoss ? ` · <b>${report.settings.injectLoss} records deliberately dropped</b>` : ''}</p>
<table class="summary"><thead><tr><th>scenario</th><th>result</th><th>lost</th><th>duplicates</th><th>consumer lost</th><th>consumer duplicates</th><th>write RTO ms</th><th>drain/s</th></tr></thead><tbody>${summary}</tbody></table>
${legendHtml()}
${report.scenarios.map(section).join('\n')}
</body></html>
`;
}

function badge(r: ScenarioResult): string {
  if (r.skipped) return '<span class="skip">skipped</span>';
  return r.passed ? '<span class="pass">pass</span>' : '<span class="fail">FAIL</span>';
}

function section(r: ScenarioResult): string {
  const head = `<h2 id="${esc(r.name)}">${esc(r.name)} ${badge(r)}</h2><p>${esc(r.description)}</p>${r.note ? `<p class="note">${esc(r.note)}</p>` : ''}`;
  if (r.skipped) return `<section class="scenario" data-scenario="${esc(r.name)}">${head}<p class="note">Skipped: ${esc(r.skipped)}</p></section>`;
  const error = r.error ? `<p class="fail">Could not finish: ${esc(r.error)}</p>` : '';
  const chart = r.series.length > 0 ? renderTimelineSvg(r.name, r.series, r.phases) : '';
  const checks = r.checks.map((c) => `<tr class="${c.passed === false ? 'bad' : ''}"><td>${esc(c.name)}</td><td class="num">${esc(String(c.value))}</td><td>${esc(c.expected)}</td><td>${c.passed === null ? 'reported' : c.passed ? '✓' : '✗ failed'}</td><td>${esc(c.detail ?? '')}</td></tr>`).join('');
  const figures = r.figures ? FIGURES.map(([key, label, hint]) => `<tr><td>${label}</td><td class="num" data-figure="${key}">${r.figures?.[key] ?? '-'}</td><td class="hint">${hint}</td></tr>`).join('') : '';
  const timeline = r.timeline.map((e) => `<li><b>${e.t.toFixed(1)} s</b> ${esc(e.what)}</li>`).join('');
  return `<section class="scenario" data-scenario="${esc(r.name)}">${head}${error}${chart}
<div class="cols"><table class="checks"><thead><tr><th>check</th><th>value</th><th>expected</th><th></th><th></th></tr></thead><tbody>${checks}</tbody></table>
<table class="figures"><tbody>${figures}</tbody></table></div><details><summary>timeline</summary><ul>${timeline}</ul></details></section>`;
}

/** Writes `dir/index.html` and `dir/report.json`. */
export async function writeHtmlReport(dir: string, report: DrillReport): Promise<void> {
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, 'index.html'), renderHtmlReport(report));
  await writeFile(join(dir, 'report.json'), `${JSON.stringify(reportJson(report), null, 2)}\n`);
}

/**
 * The JSON form: the report with `name`, `passed`, `lost`, `duplicates`, `consumerLost` and `consumerDuplicates`
 * at the top of every scenario.
 */
export function reportJson(report: DrillReport): unknown {
  const top = (r: ScenarioResult) => ({ lost: r.figures?.lost ?? null, duplicates: r.figures?.duplicates ?? null, consumerLost: r.figures?.consumerLost ?? null, consumerDuplicates: r.figures?.consumerDuplicates ?? null });
  return { ...report, scenarios: report.scenarios.map((r) => ({ ...r, ...top(r) })) };
}

const CSS = `body{font:14px/1.45 system-ui,sans-serif;margin:2em auto;max-width:920px;color:#223;padding:0 1em}
h1{font-size:1.6em}h2{margin-top:2em;border-top:1px solid #dde;padding-top:1em}
.pass{color:#fff;background:#1e8e4e;padding:.1em .5em;border-radius:4px;font-size:.8em}
.fail{color:#fff;background:#c0392b;padding:.1em .5em;border-radius:4px;font-size:.8em}
.skip{color:#fff;background:#889;padding:.1em .5em;border-radius:4px;font-size:.8em}
p.fail{font-size:1em}.meta,.note,.hint{color:#667}.note{font-style:italic}
table{border-collapse:collapse;margin:.5em 0}td,th{padding:.2em .6em;border-bottom:1px solid #eef;text-align:left}
.num{text-align:right;font-variant-numeric:tabular-nums}tr.bad td{background:#fdecea}
.cols{display:flex;gap:2em;flex-wrap:wrap}.legend .key{margin-right:1em;white-space:nowrap}
.legend i{display:inline-block;width:.9em;height:.9em;margin-right:.3em;vertical-align:-.1em;border-radius:2px}
svg.timeline{display:block;margin:.5em 0;max-width:100%;height:auto}`;
