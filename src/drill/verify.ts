/**
 * The drill's verdict: every acknowledged delta is in the primary stream, and
 * so is the latest acknowledged snapshot of each coalesce key. Older
 * snapshots may be coalesced away by design; a record twice is a duplicate.
 */
import type { Envelope } from '../envelope/index.js';
import type { SentRecord } from './load.js';

/** Counts a person checks first. */
export interface DrillCounts {
  sent: number;
  acknowledged: number;
  /** Sends that rejected (every tier failed); the producer was told, so these are not "lost". */
  rejected: number;
  /** Acknowledged records that should be in the primary stream and are not. */
  lost: number;
  /** Extra copies of an id in the primary stream. */
  duplicated: number;
  /** Acknowledged snapshots replaced by a later one of the same key during replay. */
  coalesced: number;
  /** Records in the primary stream that the drill did not send. */
  unexpected: number;
  inPrimary: number;
  /** Ids of lost records (at most 20), for the report. */
  lostIds: string[];
}

/** Compare what was acknowledged with what the primary stream holds. */
export function verifyDrill(sent: readonly SentRecord[], primary: readonly Envelope[]): DrillCounts {
  const counts = new Map<string, number>();
  for (const e of primary) counts.set(e.id, (counts.get(e.id) ?? 0) + 1);
  const acked = sent.filter((s) => s.id !== undefined);
  const latestSnapshot = new Map<string, string>();
  for (const s of acked) {
    if (s.kind !== 'snapshot' || !s.coalesceKey) continue;
    const current = latestSnapshot.get(s.coalesceKey);
    if (!current || (s.id as string) > current) latestSnapshot.set(s.coalesceKey, s.id as string);
  }
  const lostIds: string[] = [];
  let coalesced = 0;
  for (const s of acked) {
    const id = s.id as string;
    if (counts.has(id)) continue;
    const required = s.kind === 'delta' || latestSnapshot.get(s.coalesceKey ?? '') === id;
    if (required) lostIds.push(id);
    else coalesced++;
  }
  const ackedIds = new Set(acked.map((s) => s.id));
  let duplicated = 0;
  for (const n of counts.values()) duplicated += n - 1;
  return {
    sent: sent.length,
    acknowledged: acked.length,
    rejected: sent.length - acked.length,
    lost: lostIds.length,
    duplicated,
    coalesced,
    unexpected: [...counts.keys()].filter((id) => !ackedIds.has(id)).length,
    inPrimary: primary.length,
    lostIds: lostIds.slice(0, 20),
  };
}
