/** The drill's verdict on hand-made inputs: each way of breaking delivery must fail the scenario. */
import { describe, expect, it } from 'vitest';
import { evaluate, type PrimaryRecord, requiredIds } from '../../src/drill/checks.js';
import type { DeliveryCounts } from '../../src/consumer/delivery-tally.js';
import type { SentRecord } from '../../src/drill/load.js';

const sent = (seq: number, extra: Partial<SentRecord> = {}): SentRecord => ({ seq, phase: 'p', kind: 'delta', partitionKey: `k${seq % 2}`, id: `id-${String(seq).padStart(4, '0')}`, landedOn: 'primary', sentAt: 1000 + seq, settledAt: 1010 + seq, ...extra });
const inPrimary = (s: SentRecord): PrimaryRecord => ({ envelope: { id: s.id as string, partitionKey: s.partitionKey, kind: s.kind, eventTime: 0, sentTime: 0, contentType: 'application/json', data: new Uint8Array() }, shardId: 's' });
const verdict = (records: SentRecord[], primary: PrimaryRecord[], expect = {}) =>
  evaluate({ sent: records, primary, drains: [], expect, faultAt: null, primaryBreakerOpened: false, paceCap: null });
const delivered = (extra: Partial<DeliveryCounts> = {}): DeliveryCounts => ({ received: 6, unique: 6, lost: 0, duplicated: 0, droppedDuplicates: 0, lostIds: [], ...extra });
const withConsumer = (records: SentRecord[], consumer: DeliveryCounts) =>
  evaluate({ sent: records, primary: records.map(inPrimary), drains: [], expect: {}, faultAt: null, primaryBreakerOpened: false, paceCap: null, consumer });
const passed = (r: ReturnType<typeof verdict>) => r.checks.every((c) => c.passed !== false);

describe('drill checks', () => {
  const records = [0, 1, 2, 3, 4, 5].map((i) => sent(i));

  it('passes when every acknowledged record is in the primary once, in order', () => {
    const r = verdict(records, records.map(inPrimary));
    expect(r.figures).toMatchObject({ lost: 0, duplicates: 0, orderViolations: 0, rpoMs: 0 });
    expect(passed(r)).toBe(true);
  });

  it('fails on a duplicate in the primary', () => {
    const r = verdict(records, [...records, records[2] as SentRecord].map(inPrimary));
    expect(r.figures.duplicates).toBe(1);
    expect(passed(r)).toBe(false);
  });

  it('fails on a lost delta, with an RPO above zero', () => {
    const r = verdict(records, records.slice(1).map(inPrimary));
    expect(r.figures.lost).toBe(1);
    expect(r.figures.rpoMs).toBeGreaterThan(0);
    expect(passed(r)).toBe(false);
  });

  it('counts an older snapshot replaced by a newer one as coalesced, and the missing latest as lost', () => {
    const snaps = [sent(10, { kind: 'snapshot', coalesceKey: 'a' }), sent(12, { kind: 'snapshot', coalesceKey: 'a' })];
    expect(verdict(snaps, [inPrimary(snaps[1] as SentRecord)]).figures).toMatchObject({ coalesced: 1, lost: 0 });
    expect(verdict(snaps, [inPrimary(snaps[0] as SentRecord)]).figures).toMatchObject({ lost: 1 });
  });

  it('counts per-key order violations; judged by default, only reported when the scenario says so', () => {
    const swapped = [records[0], records[2], records[1], records[3], records[4], records[5]] as SentRecord[];
    const judged = verdict(records, swapped.map(inPrimary));
    expect(judged.figures.orderViolations).toBe(0); // records 1 and 2 have different keys
    const sameKey = [records[0], records[4], records[2], records[1], records[3], records[5]] as SentRecord[];
    const r = verdict(records, sameKey.map(inPrimary));
    expect(r.figures.orderViolations).toBe(1);
    expect(passed(r)).toBe(false);
    expect(passed(verdict(records, sameKey.map(inPrimary), { orderViolations: 'report' }))).toBe(true);
  });

  it('fails a scenario that must not fail over when a write landed on the secondary', () => {
    const moved = records.map((s, i) => (i === 3 ? { ...s, landedOn: 'secondary' as const } : s));
    expect(passed(verdict(moved, moved.map(inPrimary), { failover: 'none' }))).toBe(false);
    expect(passed(verdict(records, records.map(inPrimary), { failover: 'none' }))).toBe(true);
  });

  it('fails a drain faster than its cap', () => {
    const drains = [{ at: 5000, written: 3000, skippedDuplicates: 0, coalesced: 0, durationMs: 2000 }];
    const over = evaluate({ sent: records, primary: records.map(inPrimary), drains, expect: {}, faultAt: null, primaryBreakerOpened: false, paceCap: 1000 });
    expect(over.figures.drainRate).toBe(1500);
    expect(over.checks.find((c) => c.name.startsWith('drain rate'))?.passed).toBe(false);
  });

  it('fails when the spillway consumer missed a required id or handled one twice, and shows n/a when none ran', () => {
    expect(passed(withConsumer(records, delivered()))).toBe(true);
    const missed = withConsumer(records, delivered({ lost: 1, lostIds: ['id-0003'] }));
    expect(missed.figures.consumerLost).toBe(1);
    expect(passed(missed)).toBe(false);
    const twice = withConsumer(records, delivered({ duplicated: 2, received: 8 }));
    expect(twice.figures.consumerDuplicates).toBe(2);
    expect(passed(twice)).toBe(false);
    const none = verdict(records, records.map(inPrimary));
    expect(none.figures.consumerLost).toBeNull();
    expect(none.checks.find((c) => c.name === 'lost by a spillway consumer')?.passed).toBeNull();
  });

  it('requires every acknowledged delta and only the latest snapshot of each coalesce key from a reader', () => {
    const snaps = [sent(10, { kind: 'snapshot', coalesceKey: 'a' }), sent(12, { kind: 'snapshot', coalesceKey: 'a' }), sent(13, { id: undefined, error: 'x' })];
    expect([...requiredIds([...records, ...snaps])].sort()).toEqual([...records.map((r) => r.id), 'id-0012'].sort());
  });
});
