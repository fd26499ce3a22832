/**
 * A survey of the backlog: every source that can be read without consuming
 * it is visited once, before a drain, to find the newest snapshot per
 * coalesceKey (coalescing across the whole backlog), and for a dry run or an
 * orphan drain, which ids the backlog holds.
 */
import type { Logger } from 'pino';
import type { DedupeStore, DrainSource } from '../contracts/index.js';
import type { Envelope } from '../envelope/index.js';

/** What a survey found. */
export interface SurveyResult {
  /** Newest snapshot id per coalesceKey. */
  newest: Map<string, string>;
  /** Records per surveyed source. */
  bySource: Map<string, number>;
  /** Ids seen (only when asked for). */
  ids?: string[];
  /** The coalesceKey of each snapshot id seen (only when ids are asked for). */
  snapshotKeys?: Map<string, string>;
  /** The earliest and the latest send time seen (ms). */
  oldestSentTime?: number;
  newestSentTime?: number;
  /** Sources without a survey, or whose survey failed (their records are not counted). */
  unsurveyed: string[];
}

/** Survey every source that supports it; a failed survey is logged and the source listed as unsurveyed. */
export async function surveySources(sources: readonly DrainSource[], signal: AbortSignal, logger: Logger, options: { ids?: boolean } = {}): Promise<SurveyResult> {
  const result: SurveyResult = { newest: new Map(), bySource: new Map(), unsurveyed: [], ...(options.ids ? { ids: [], snapshotKeys: new Map() } : {}) };
  for (const source of sources) {
    if (!source.survey) {
      result.unsurveyed.push(source.id);
      continue;
    }
    let count = 0;
    const visit = (e: Envelope): void => {
      count++;
      result.ids?.push(e.id);
      if (result.oldestSentTime === undefined || e.sentTime < result.oldestSentTime) result.oldestSentTime = e.sentTime;
      if (result.newestSentTime === undefined || e.sentTime > result.newestSentTime) result.newestSentTime = e.sentTime;
      if (e.kind !== 'snapshot' || e.coalesceKey === undefined) return;
      result.snapshotKeys?.set(e.id, e.coalesceKey);
      const current = result.newest.get(e.coalesceKey);
      if (current === undefined || e.id > current) result.newest.set(e.coalesceKey, e.id);
    };
    try {
      await source.survey(visit, signal);
      result.bySource.set(source.id, count);
    } catch (error) {
      if (signal.aborted) throw error;
      result.unsurveyed.push(source.id);
      logger.info({ source: source.id, err: error }, 'Could not survey a source; its snapshots are coalesced per window.');
    }
  }
  return result;
}

/** What a drain would do now (`spillway drain --dry-run`). */
export interface DrainPlan {
  /** Records in the surveyed sources. */
  records: number;
  /** The same id in two places (a secondary and the spool, say): written once. */
  duplicates: number;
  /** Already written to the primary, by the dedupe store: skipped. */
  alreadyWritten: number;
  /** Older snapshots superseded by a newer one in the backlog: skipped. */
  coalesced: number;
  /** What would be written to the primary. */
  toWrite: number;
  bySource: Record<string, number>;
  oldestSentTime?: number;
  newestSentTime?: number;
  /** Sources that cannot be surveyed: not counted above. */
  unsurveyed: string[];
}

/** Count what a drain would replay, coalesce and skip, without writing or consuming anything. */
export async function planDrain(sources: readonly DrainSource[], dedupe: DedupeStore, signal: AbortSignal, logger: Logger): Promise<DrainPlan> {
  const survey = await surveySources(sources, signal, logger, { ids: true });
  const ids = survey.ids ?? [];
  const unique = [...new Set(ids)];
  const unseen: string[] = [];
  for (let i = 0; i < unique.length; i += 10_000) unseen.push(...(await dedupe.filterUnseen(unique.slice(i, i + 10_000))));
  // As the drain judges them: each id once, and of what is not written yet, a snapshot that is not the newest of its key.
  let coalesced = 0;
  for (const id of unseen) {
    const key = survey.snapshotKeys?.get(id);
    if (key !== undefined && survey.newest.get(key) !== id) coalesced++;
  }
  return {
    records: ids.length,
    duplicates: ids.length - unique.length,
    alreadyWritten: unique.length - unseen.length,
    coalesced,
    toWrite: unseen.length - coalesced,
    bySource: Object.fromEntries(survey.bySource),
    ...(survey.oldestSentTime === undefined ? {} : { oldestSentTime: survey.oldestSentTime, newestSentTime: survey.newestSentTime }),
    unsurveyed: survey.unsurveyed,
  };
}
