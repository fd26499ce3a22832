/**
 * The drill's verdict on one scenario: what was acknowledged against what the primary stream holds, and the
 * figures a change board asks for (write RTO, worst send latency during the switch, drain rate against the
 * cap, RPO). Every check that is `zero` or a boolean can fail the scenario.
 *
 * Rules: every acknowledged delta must be in the primary exactly once, in send order per partition key; of
 * the snapshots, the latest acknowledged one per coalesce key must be there (older ones may be coalesced).
 * A spillway consumer reading the same streams must hand each of those ids to its handler exactly once.
 */
import type { DeliveryCounts } from '../consumer/delivery-tally.js';
import type { Envelope } from '../envelope/index.js';
import type { SentRecord } from './load.js';
import type { DrainPoint } from './observe.js';
import type { Expectation, ScenarioExpectations } from './scenario.js';

/** A record read back from the primary stream, in shard order. */
export interface PrimaryRecord {
  envelope: Envelope;
  shardId: string;
}

/** One line of the verdict. `passed: null` means the figure is shown, not judged. */
export interface Check {
  name: string;
  value: number | string;
  expected: string;
  passed: boolean | null;
  detail?: string;
}

/** The numbers of one scenario. Times in ms; `null` when the scenario had no such moment. */
export interface Figures {
  sent: number;
  acknowledged: number;
  rejected: number;
  lost: number;
  duplicates: number;
  /** Required ids a spillway consumer never handed to its handler; `null` when no consumer ran. */
  consumerLost: number | null;
  /** Handler calls beyond the first for an id, in a spillway consumer; `null` when no consumer ran. */
  consumerDuplicates: number | null;
  /** Handler calls of that consumer. */
  consumerReceived: number | null;
  orderViolations: number;
  coalesced: number;
  unexpected: number;
  inPrimary: number;
  /** Acknowledgements on the secondary or the spool. */
  fallbackWrites: number;
  writeRtoMs: number | null;
  worstSwitchLatencyMs: number | null;
  drainMs: number | null;
  drainRate: number | null;
  paceCap: number | null;
  rpoMs: number;
  lostIds: string[];
}

/** What {@link evaluate} needs. */
export interface EvaluateInput {
  sent: readonly SentRecord[];
  primary: readonly PrimaryRecord[];
  drains: readonly DrainPoint[];
  expect: ScenarioExpectations;
  /** When the primary was first faulted (epoch ms), if ever. */
  faultAt: number | null;
  /** Whether the primary breaker opened at any time. */
  primaryBreakerOpened: boolean;
  paceCap: number | null;
  /** What the drill's spillway consumer received (see `consumer-tally.ts`); absent when none ran. */
  consumer?: DeliveryCounts;
}

/**
 * The ids a reader must see: every acknowledged delta and the latest acknowledged snapshot of each coalesce
 * key (older snapshots may be coalesced away).
 */
export function requiredIds(sent: readonly SentRecord[]): Set<string> {
  const acked = sent.filter((s) => s.id !== undefined);
  const latest = latestSnapshots(acked);
  return new Set(acked.filter((s) => s.kind === 'delta' || latest.get(s.coalesceKey ?? '') === s).map((s) => s.id as string));
}

function latestSnapshots(acked: readonly SentRecord[]): Map<string, SentRecord> {
  const latestSnapshot = new Map<string, SentRecord>();
  for (const s of acked) {
    if (s.kind !== 'snapshot' || !s.coalesceKey) continue;
    const current = latestSnapshot.get(s.coalesceKey);
    if (!current || s.seq > current.seq) latestSnapshot.set(s.coalesceKey, s);
  }
  return latestSnapshot;
}

/** Computes the figures and the checks of one scenario. */
export function evaluate(input: EvaluateInput): { figures: Figures; checks: Check[] } {
  const figures = computeFigures(input);
  return { figures, checks: judge(figures, input) };
}

function computeFigures(input: EvaluateInput): Figures {
  const acked = input.sent.filter((s) => s.id !== undefined);
  const ackedIds = new Set(acked.map((s) => s.id as string));
  const counts = new Map<string, number>();
  for (const r of input.primary) counts.set(r.envelope.id, (counts.get(r.envelope.id) ?? 0) + 1);
  const latestSnapshot = latestSnapshots(acked);
  const lost: SentRecord[] = [];
  let coalesced = 0;
  for (const s of acked) {
    if (counts.has(s.id as string)) continue;
    if (s.kind === 'delta' || latestSnapshot.get(s.coalesceKey ?? '') === s) lost.push(s);
    else coalesced++;
  }
  let duplicates = 0;
  for (const n of counts.values()) duplicates += n - 1;
  const fallback = acked.filter((s) => s.landedOn === 'secondary' || s.landedOn === 'spool');
  const { writeRtoMs, worstSwitchLatencyMs } = switchFigures(input.sent, fallback, input.faultAt);
  const drain = drainFigures(input.drains);
  const lostTimes = lost.map((s) => s.settledAt ?? s.sentAt);
  return {
    sent: input.sent.length,
    acknowledged: acked.length,
    rejected: input.sent.filter((s) => s.error !== undefined).length,
    lost: lost.length,
    duplicates,
    consumerLost: input.consumer?.lost ?? null,
    consumerDuplicates: input.consumer?.duplicated ?? null,
    consumerReceived: input.consumer?.received ?? null,
    orderViolations: orderViolations(input.primary, acked),
    coalesced,
    unexpected: [...counts.keys()].filter((id) => !ackedIds.has(id)).length,
    inPrimary: input.primary.length,
    fallbackWrites: fallback.length,
    writeRtoMs,
    worstSwitchLatencyMs,
    ...drain,
    paceCap: input.paceCap,
    rpoMs: lost.length === 0 ? 0 : Math.max(1, Math.max(...lostTimes) - Math.min(...lostTimes)),
    lostIds: lost.slice(0, 20).map((s) => s.id as string),
  };
}

/** Deltas of one partition key that reached the primary after a delta of the same key sent later. */
export function orderViolations(primary: readonly PrimaryRecord[], acked: readonly SentRecord[]): number {
  const sendOrder = new Map<string, number>();
  for (const s of acked) if (s.kind === 'delta') sendOrder.set(s.id as string, s.seq);
  const highest = new Map<string, number>();
  const seen = new Set<string>();
  let violations = 0;
  for (const { envelope } of primary) {
    const seq = sendOrder.get(envelope.id);
    if (seq === undefined || seen.has(envelope.id)) continue;
    seen.add(envelope.id);
    const top = highest.get(envelope.partitionKey) ?? -1;
    if (seq < top) violations++;
    else highest.set(envelope.partitionKey, seq);
  }
  return violations;
}

function switchFigures(sent: readonly SentRecord[], fallback: readonly SentRecord[], faultAt: number | null): Pick<Figures, 'writeRtoMs' | 'worstSwitchLatencyMs'> {
  if (faultAt === null) return { writeRtoMs: null, worstSwitchLatencyMs: null };
  const after = fallback.map((s) => s.settledAt ?? Infinity).filter((t) => t >= faultAt);
  if (after.length === 0) return { writeRtoMs: null, worstSwitchLatencyMs: null };
  const firstFallback = Math.min(...after);
  const during = sent.filter((s) => s.sentAt >= faultAt && s.sentAt <= firstFallback && s.settledAt !== undefined);
  const worst = during.reduce((max, s) => Math.max(max, (s.settledAt as number) - s.sentAt), 0);
  return { writeRtoMs: firstFallback - faultAt, worstSwitchLatencyMs: Math.round(worst) };
}

function drainFigures(drains: readonly DrainPoint[]): Pick<Figures, 'drainMs' | 'drainRate'> {
  const writing = drains.filter((d) => d.written > 0);
  if (writing.length === 0) return { drainMs: null, drainRate: null };
  const drainMs = writing.reduce((n, d) => n + d.durationMs, 0);
  const written = writing.reduce((n, d) => n + d.written, 0);
  // Under a second the pacer's first burst dominates: the rate is not judged.
  return { drainMs, drainRate: drainMs >= 1000 ? Math.round((written / drainMs) * 1000) : null };
}

function zeroCheck(name: string, value: number, expectation: Expectation | undefined, detail?: string): Check {
  const judged = (expectation ?? 'zero') === 'zero';
  return { name, value, expected: judged ? '0' : 'reported', passed: judged ? value === 0 : null, ...(detail ? { detail } : {}) };
}

function consumerChecks(c: DeliveryCounts | undefined): Check[] {
  if (!c) return [{ name: 'lost by a spillway consumer', value: 'n/a', expected: '0', passed: null, detail: 'no consumer ran' }];
  const lostDetail = c.lostIds.length > 0 ? `first lost: ${c.lostIds.slice(0, 5).join(', ')}` : undefined;
  return [
    zeroCheck('lost by a spillway consumer', c.lost, 'zero', lostDetail),
    zeroCheck('duplicates seen by a spillway consumer', c.duplicated, 'zero', `${c.received} handled, ${c.droppedDuplicates} copies dropped by its dedupe`),
  ];
}

function judge(f: Figures, input: EvaluateInput): Check[] {
  const e = input.expect;
  const checks: Check[] = [
    zeroCheck('lost acknowledged records', f.lost, e.lost, f.lostIds.length > 0 ? `first lost: ${f.lostIds.slice(0, 5).join(', ')}` : undefined),
    zeroCheck('RPO (ms of acknowledged writes lost)', f.rpoMs, e.lost),
    zeroCheck('duplicates in the primary stream', f.duplicates, e.duplicates),
    ...consumerChecks(input.consumer),
    zeroCheck('per-key order violations (deltas)', f.orderViolations, e.orderViolations),
    zeroCheck('records in the primary never acknowledged', f.unexpected, e.unexpected),
    zeroCheck('sends rejected to the producer', f.rejected, e.rejected),
  ];
  if (e.failover === 'none') {
    const opened = input.primaryBreakerOpened ? 'the primary breaker opened' : 'the primary breaker stayed closed';
    checks.push({ name: 'no failover', value: f.fallbackWrites, expected: '0 writes off the primary, breaker closed', passed: f.fallbackWrites === 0 && !input.primaryBreakerOpened, detail: opened });
  } else if (e.failover === 'expected') {
    checks.push({ name: 'failed over (write RTO, ms)', value: f.writeRtoMs ?? 'never', expected: 'a fallback acknowledged a write', passed: f.writeRtoMs !== null });
  }
  if (e.pacing !== false && f.paceCap !== null && f.drainRate !== null) {
    checks.push({ name: 'drain rate within the cap (records/s)', value: f.drainRate, expected: `<= ${f.paceCap} (+15%)`, passed: f.drainRate <= f.paceCap * 1.15 });
  }
  if (e.coalescing) checks.push({ name: 'snapshots coalesced during replay', value: f.coalesced, expected: '> 0', passed: f.coalesced > 0 });
  return checks;
}
