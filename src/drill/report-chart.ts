/**
 * A scenario's timeline as inline SVG (no scripts, no network): per second, acknowledged writes on the
 * primary / secondary / spool as stacked bars, backlog depth and drain rate as lines, phases as bands, and a
 * strip per breaker (closed, half-open, open).
 */
import type { BreakerState } from './observe.js';
import type { PhaseSpan, SecondPoint } from './series.js';

/** Colours shared with the legend. */
export const COLOURS = { primary: '#2f6fb3', secondary: '#e08a1e', spool: '#8e44ad', backlog: '#c0392b', drained: '#1e9e6a' } as const;
const BREAKER: Record<BreakerState, string> = { closed: '#8fd19e', halfOpen: '#f5d76e', open: '#e57373' };

const W = 860;
const PLOT_H = 200;
const LEFT = 48;
const TOP = 22;
const STRIP_H = 12;

const esc = (s: string): string => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

/** The chart for one scenario. */
export function renderTimelineSvg(name: string, series: readonly SecondPoint[], phases: readonly PhaseSpan[]): string {
  const seconds = Math.max(1, series.length);
  const peak = Math.max(1, ...series.map((p) => Math.max(p.primary + p.secondary + p.spool, p.backlog, p.drained)));
  const x = (t: number): number => LEFT + (t / seconds) * (W - LEFT - 10);
  const y = (v: number): number => TOP + PLOT_H - (v / peak) * PLOT_H;
  const barW = Math.max(1, (W - LEFT - 10) / seconds - 2);
  const parts: string[] = [];
  phases.forEach((p, i) => {
    parts.push(`<rect x="${x(p.from).toFixed(1)}" y="${TOP}" width="${Math.max(0, x(p.to) - x(p.from)).toFixed(1)}" height="${PLOT_H}" fill="${i % 2 ? '#f3f5f8' : '#e8edf3'}"/>`);
    parts.push(`<text x="${(x(p.from) + 3).toFixed(1)}" y="${TOP - 6}" font-size="10" fill="#445">${esc(p.name)}</text>`);
  });
  for (const p of series) {
    let base = 0;
    for (const tier of ['primary', 'secondary', 'spool'] as const) {
      const v = p[tier];
      if (v === 0) continue;
      parts.push(`<rect class="bar-${tier}" x="${(x(p.t) + 1).toFixed(1)}" y="${y(base + v).toFixed(1)}" width="${barW.toFixed(1)}" height="${(y(base) - y(base + v)).toFixed(1)}" fill="${COLOURS[tier]}"><title>${p.t}s ${tier}: ${v}</title></rect>`);
      base += v;
    }
  }
  for (const key of ['backlog', 'drained'] as const) {
    const points = series.map((p) => `${(x(p.t) + barW / 2 + 1).toFixed(1)},${y(p[key]).toFixed(1)}`).join(' ');
    parts.push(`<polyline class="line-${key}" points="${points}" fill="none" stroke="${COLOURS[key]}" stroke-width="2"${key === 'drained' ? ' stroke-dasharray="5 3"' : ''}/>`);
  }
  parts.push(...axes(seconds, peak, x, y));
  parts.push(...strips(series, x, barW));
  const height = TOP + PLOT_H + 20 + 2 * (STRIP_H + 6) + 10;
  return `<svg class="timeline" data-scenario="${esc(name)}" role="img" aria-label="Timeline of ${esc(name)}" xmlns="http://www.w3.org/2000/svg" width="${W}" height="${height}" viewBox="0 0 ${W} ${height}" font-family="system-ui, sans-serif">${parts.join('')}</svg>`;
}

function axes(seconds: number, peak: number, x: (t: number) => number, y: (v: number) => number): string[] {
  const out = [`<line x1="${LEFT}" y1="${TOP + PLOT_H}" x2="${W - 10}" y2="${TOP + PLOT_H}" stroke="#889"/>`, `<line x1="${LEFT}" y1="${TOP}" x2="${LEFT}" y2="${TOP + PLOT_H}" stroke="#889"/>`];
  for (const v of [0, Math.round(peak / 2), peak]) out.push(`<text x="${LEFT - 4}" y="${(y(v) + 3).toFixed(1)}" font-size="10" text-anchor="end" fill="#445">${v}</text>`);
  const step = Math.max(1, Math.ceil(seconds / 12));
  for (let t = 0; t <= seconds; t += step) out.push(`<text x="${x(t).toFixed(1)}" y="${TOP + PLOT_H + 13}" font-size="10" text-anchor="middle" fill="#445">${t}s</text>`);
  return out;
}

function strips(series: readonly SecondPoint[], x: (t: number) => number, barW: number): string[] {
  const out: string[] = [];
  (['primaryBreaker', 'secondaryBreaker'] as const).forEach((key, row) => {
    const top = TOP + PLOT_H + 20 + row * (STRIP_H + 6);
    out.push(`<text x="${LEFT - 4}" y="${top + 10}" font-size="10" text-anchor="end" fill="#445">${row === 0 ? 'primary' : 'second.'}</text>`);
    for (const p of series) {
      const state = p[key];
      if (state === null) continue;
      out.push(`<rect class="breaker-${state}" x="${(x(p.t) + 1).toFixed(1)}" y="${top}" width="${(barW + 2).toFixed(1)}" height="${STRIP_H}" fill="${BREAKER[state]}"><title>${p.t}s ${row === 0 ? 'primary' : 'secondary'} breaker ${state}</title></rect>`);
    }
  });
  return out;
}

/** The legend under every chart. */
export function legendHtml(): string {
  const item = (colour: string, label: string): string => `<span class="key"><i style="background:${colour}"></i>${label}</span>`;
  return `<p class="legend">${item(COLOURS.primary, 'written to primary')}${item(COLOURS.secondary, 'to secondary')}${item(COLOURS.spool, 'to spool')}${item(COLOURS.backlog, 'backlog (line)')}${item(COLOURS.drained, 'drained per s (dashed)')}${item(BREAKER.closed, 'breaker closed')}${item(BREAKER.halfOpen, 'half-open')}${item(BREAKER.open, 'open')}</p>`;
}
