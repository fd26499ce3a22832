/** Renders a drill result as a plain-text report for a terminal. */
import type { DrillResult } from './run-drill.js';

const pad = (s: string | number, n: number): string => String(s).padStart(n);
const padEnd = (s: string | number, n: number): string => String(s).padEnd(n);

/** The report a person reads after `spillway drill`. */
export function renderDrillReport(r: DrillResult): string {
  const c = r.counts;
  const lines: string[] = [];
  lines.push('', `spillway drill: region outage (${r.engine})`, '');
  lines.push('  phase            sent  primary  secondary  spool  rejected   p50 ms   p99 ms');
  for (const p of r.phases) {
    lines.push(`  ${padEnd(p.name, 14)} ${pad(p.sent, 6)} ${pad(p.primary, 8)} ${pad(p.secondary, 10)} ${pad(p.spool, 6)} ${pad(p.rejected, 9)} ${pad(p.p50Ms, 8)} ${pad(p.p99Ms, 8)}`);
  }
  lines.push('', '  timeline');
  for (const e of r.timeline) lines.push(`  ${pad((e.atMs / 1000).toFixed(2), 8)} s  ${e.what}`);
  const useful = r.drains.filter((d) => d.written > 0);
  const written = useful.reduce((n, d) => n + d.written, 0);
  const drainMs = useful.reduce((n, d) => n + d.durationMs, 0);
  const rate = drainMs > 0 ? Math.round((written / drainMs) * 1000) : 0;
  lines.push('', `  reconciler: ${written} records replayed into the primary by ${useful.length} drain(s) in ${drainMs} ms (${rate} records/s)`);
  lines.push(`  recovery: the backlog was back in the primary ${(r.recoveryMs / 1000).toFixed(1)} s after both regions came back`);
  lines.push('', '  result');
  lines.push(`    sent          ${pad(c.sent, 7)}`);
  lines.push(`    acknowledged  ${pad(c.acknowledged, 7)}`);
  lines.push(`    rejected      ${pad(c.rejected, 7)}   (the producer was told; none expected)`);
  lines.push(`    lost          ${pad(c.lost, 7)}   acknowledged but missing from the primary stream`);
  lines.push(`    duplicated    ${pad(c.duplicated, 7)}   extra copies of an id in the primary stream`);
  lines.push(`    coalesced     ${pad(c.coalesced, 7)}   older snapshots replaced by a newer one during replay`);
  lines.push(`    in primary    ${pad(c.inPrimary, 7)}`);
  if (c.unexpected > 0) lines.push(`    unexpected    ${pad(c.unexpected, 7)}   records in the primary that the drill never sent`);
  if (c.lostIds.length > 0) lines.push(`    first lost ids: ${c.lostIds.join(', ')}`);
  lines.push('', r.passed ? `  PASS: nothing acknowledged was lost (${(r.totalMs / 1000).toFixed(1)} s)` : '  FAIL: acknowledged records are missing from the primary stream', '');
  return lines.join('\n');
}
