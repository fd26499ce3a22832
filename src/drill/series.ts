/**
 * Per-second series for a scenario's timeline chart: acknowledged writes per tier, breaker states, backlog
 * depth and drain rate, bucketed from what the drill recorded.
 */
import type { SentRecord } from './load.js';
import type { BreakerState, DrainPoint, Sample } from './observe.js';

/** One second of a scenario. */
export interface SecondPoint {
  /** Seconds since the scenario started. */
  t: number;
  primary: number;
  secondary: number;
  spool: number;
  /** Records acknowledged on a fallback and not yet handled by the reconciler, at the end of the second. */
  backlog: number;
  /** Records the reconciler wrote to the primary in this second. */
  drained: number;
  primaryBreaker: BreakerState | null;
  secondaryBreaker: BreakerState | null;
}

/** A phase's span on the chart, in seconds since the scenario started. */
export interface PhaseSpan {
  name: string;
  from: number;
  to: number;
}

/** Buckets the records, samples and drains from `start` (epoch ms) to `end`. */
export function perSecond(start: number, end: number, sent: readonly SentRecord[], samples: readonly Sample[], drains: readonly DrainPoint[]): SecondPoint[] {
  const seconds = Math.max(1, Math.ceil((end - start) / 1000));
  const points: SecondPoint[] = Array.from({ length: seconds }, (_, t) => ({ t, primary: 0, secondary: 0, spool: 0, backlog: 0, drained: 0, primaryBreaker: null, secondaryBreaker: null }));
  const bucket = (at: number): SecondPoint | undefined => points[Math.min(seconds - 1, Math.max(0, Math.floor((at - start) / 1000)))];
  const handed = new Array<number>(seconds).fill(0);
  for (const s of sent) {
    if (s.id === undefined || s.landedOn === undefined || s.settledAt === undefined) continue;
    const p = bucket(s.settledAt);
    if (!p) continue;
    p[s.landedOn] += 1;
    if (s.landedOn !== 'primary') handed[p.t] = (handed[p.t] ?? 0) + 1;
  }
  const handled = new Array<number>(seconds).fill(0);
  for (const d of drains) spreadDrain(d, start, points, handled);
  for (const s of samples) {
    const p = bucket(s.at);
    if (!p) continue;
    p.primaryBreaker = worse(p.primaryBreaker, s.breakers.primary);
    p.secondaryBreaker = worse(p.secondaryBreaker, s.breakers.secondary);
  }
  let backlog = 0;
  let lastPrimary: BreakerState | null = null;
  let lastSecondary: BreakerState | null = null;
  for (const p of points) {
    backlog = Math.max(0, backlog + (handed[p.t] ?? 0) - (handled[p.t] ?? 0));
    p.backlog = Math.round(backlog);
    p.drained = Math.round(p.drained);
    p.primaryBreaker ??= lastPrimary;
    p.secondaryBreaker ??= lastSecondary;
    lastPrimary = p.primaryBreaker;
    lastSecondary = p.secondaryBreaker;
  }
  return points;
}

/** A run reports once, at its end: its records are spread evenly over the seconds it ran. */
function spreadDrain(d: DrainPoint, start: number, points: SecondPoint[], handled: number[]): void {
  const from = Math.max(0, Math.floor((d.at - d.durationMs - start) / 1000));
  const to = Math.min(points.length - 1, Math.max(from, Math.floor((d.at - start) / 1000)));
  const span = to - from + 1;
  for (let t = from; t <= to; t++) {
    const p = points[t];
    if (!p) continue;
    p.drained += d.written / span;
    handled[t] = (handled[t] ?? 0) + (d.written + d.skippedDuplicates + d.coalesced) / span;
  }
}

const RANK: Record<BreakerState, number> = { closed: 0, halfOpen: 1, open: 2 };

function worse(a: BreakerState | null, b: BreakerState | undefined): BreakerState | null {
  if (b === undefined) return a;
  if (a === null) return b;
  return RANK[b] > RANK[a] ? b : a;
}
