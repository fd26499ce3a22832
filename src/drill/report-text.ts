/** The final table a person reads in the terminal after `spillway drill`. */
import type { DrillReport } from './matrix.js';
import type { ScenarioResult } from './scenario-run.js';

const ms = (v: number | null | undefined): string => (v === null || v === undefined ? '-' : `${v}`);

/** One row per scenario (`c.lost`/`c.dups`: what the drill's spillway consumer missed or got twice), then the failed checks and the skipped scenarios with their reasons. */
export function renderTextReport(report: DrillReport): string {
  const head = ['scenario', 'result', 'acked', 'lost', 'dups', 'c.lost', 'c.dups', 'order', 'coalesced', 'RTO ms', 'worst ms', 'drain/s', 'RPO'];
  const rows = report.scenarios.map((r) => row(r));
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((cells) => (cells[i] ?? '').length)));
  const line = (cells: string[]): string => `  ${cells.map((c, i) => (i === 0 ? c.padEnd(widths[i] ?? 0) : c.padStart(widths[i] ?? 0))).join('  ')}`;
  const out = ['', `spillway drill on ${report.backend}: ${report.scenarios.length} scenario(s) in ${(report.durationMs / 1000).toFixed(1)} s`, '', line(head), ...rows.map(line), ''];
  for (const r of report.scenarios) {
    if (r.skipped) out.push(`  skipped ${r.name}: ${r.skipped}`);
    if (r.error) out.push(`  ${r.name} could not finish: ${r.error.split('\n')[0]}`);
    for (const c of r.checks.filter((check) => check.passed === false)) {
      out.push(`  FAILED ${r.name}: ${c.name} = ${c.value} (expected ${c.expected})${c.detail ? `; ${c.detail}` : ''}`);
    }
  }
  const failed = report.scenarios.filter((r) => !r.passed).length;
  out.push('', report.passed ? '  PASS: every check held.' : `  FAIL: ${failed} scenario(s) failed a check.`, '');
  return out.join('\n');
}

function row(r: ScenarioResult): string[] {
  const f = r.figures;
  const result = r.skipped ? 'skipped' : r.passed ? 'pass' : 'FAIL';
  if (!f) return [r.name, result, ...Array<string>(11).fill('-')];
  return [r.name, result, `${f.acknowledged}`, `${f.lost}`, `${f.duplicates}`, ms(f.consumerLost), ms(f.consumerDuplicates), `${f.orderViolations}`, `${f.coalesced}`, ms(f.writeRtoMs), ms(f.worstSwitchLatencyMs), ms(f.drainRate), `${f.rpoMs}`];
}
