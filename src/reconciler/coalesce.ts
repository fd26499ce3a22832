import type { Envelope } from '../envelope/index.js';

/** A window with duplicates and superseded snapshots taken out. */
export interface CoalescedWindow {
  /** Records to write, in their original order. */
  records: Envelope[];
  /** Records seen twice in the window (the same id from two sources). */
  duplicates: number;
  /** Snapshots dropped because a later snapshot with the same coalesceKey is in the window. */
  coalesced: number;
}

/**
 * Every delta is kept, in order; of the snapshots sharing a coalesceKey only
 * the latest (by id, i.e. send order) is kept; a repeated id is kept once.
 * `newest` (from a survey of the whole backlog) names, per coalesceKey, the
 * newest snapshot anywhere in the backlog: older ones are dropped even when
 * that one is in a later window.
 */
export function coalesceWindow(envelopes: readonly Envelope[], newest?: ReadonlyMap<string, string>): CoalescedWindow {
  const seen = new Set<string>();
  const latestSnapshot = new Map<string, string>();
  let duplicates = 0;
  const unique: Envelope[] = [];
  for (const e of envelopes) {
    if (seen.has(e.id)) {
      duplicates++;
      continue;
    }
    seen.add(e.id);
    unique.push(e);
    if (e.kind === 'snapshot' && e.coalesceKey !== undefined) {
      const current = latestSnapshot.get(e.coalesceKey) ?? newest?.get(e.coalesceKey);
      if (current === undefined || e.id > current) latestSnapshot.set(e.coalesceKey, e.id);
      else if (!latestSnapshot.has(e.coalesceKey)) latestSnapshot.set(e.coalesceKey, current);
    }
  }
  const records = unique.filter((e) => e.kind !== 'snapshot' || e.coalesceKey === undefined || latestSnapshot.get(e.coalesceKey) === e.id);
  return { records, duplicates, coalesced: unique.length - records.length };
}
