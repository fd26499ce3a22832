/**
 * The reconciler: once the primary is healthy again, drains the spool and the
 * secondary streams back into it, merged in send order, without duplicates,
 * with superseded snapshots dropped, at a pace the primary can take.
 *
 * Invariants
 * - A spool record is acknowledged (deleted), and a secondary shard's
 *   checkpoint moved, only after every record of that chunk was acknowledged
 *   by the primary, or was already written before, or was a snapshot
 *   superseded by a later one that the primary acknowledged.
 * - Ids are marked seen only after the primary acknowledged them, and a
 *   window's records are filtered against the seen ids before writing, so a
 *   crash after the mark does not duplicate.
 * - Before each batch goes to the primary, its ids and the time are recorded
 *   durably as an uncertain write, and removed once marked seen. The router
 *   records the same for a primary write that failed ambiguously before it
 *   offers the records to another tier. Before each window the reconciler
 *   settles every uncertain write: it reads the primary from that time, marks
 *   the ids it finds as seen, and only then drains, so neither a crash between
 *   the primary's acknowledgement and the mark nor a write that timed out after
 *   it landed is written twice. Without `uncertain`, both can be.
 * - One run at a time. A failed write stops the run, hands every uncommitted
 *   chunk back to its source, and waits for the primary's breaker.
 * - A source that cannot be read stops the run where its records would be
 *   needed (see merge.ts), so no record of a key reaches the primary before an
 *   older one still in that source, and an older snapshot never lands after a
 *   newer one. Only once it has been unreadable for `unavailableSourceWaitMs`
 *   do the other sources drain without it (logged at warn).
 */
import type { Logger } from 'pino';
import type { DedupeStore, DrainSource, SourceChunk } from '../contracts/index.js';
import type { Envelope } from '../envelope/index.js';
import { isAmbiguousFailure } from '../errors/index.js';
import type { BusEvents, ReconcileSummary } from '../events/bus-events.js';
import type { GuardedTarget } from '../failover/breaker.js';
import { chunkBatch, recordBytes } from '../failover/chunk.js';
import { wait } from '../failover/backoff.js';
import { type DeliveryOptions, deliverToTier } from '../failover/deliver.js';
import { coalesceWindow } from './coalesce.js';
import type { ReconcilerCoordination } from './coordination.js';
import { type DrainPlan, planDrain, surveySources } from './survey.js';
import { MergedReader } from './merge.js';
import { Pacer, type PacerOptions } from './pacer.js';
import type { UncertainBatch, UncertainWrites } from './uncertain-writes.js';

/** Reconciler tuning; all have defaults. */
export interface ReconcilerOptions extends PacerOptions {
  /** Records merged, deduplicated and coalesced together (default 5000). */
  windowRecords?: number;
  /**
   * Where superseded snapshots are found: `backlog` (default) surveys every
   * source first, so of the snapshots sharing a coalesceKey only the newest in
   * the whole backlog is sent; `window` looks within each window only (one
   * read of each source instead of two).
   */
  coalesce?: 'backlog' | 'window';
  /**
   * Before draining, look in the primary for every id in the backlog and skip
   * those already there (default false): for draining records another
   * producer wrote and may have drained itself (`spillway drain --orphans`).
   */
  checkPrimaryFirst?: boolean;
  /** Records read from one source at a time (default 1000). */
  readRecords?: number;
  /** How long drained ids are remembered, in ms (default 7 days). */
  dedupeTtlMs?: number;
  /**
   * How old an uncertain write must be before the primary is searched for it,
   * in ms (default 10000): a request that timed out on our side may still be
   * applied a little later, and searching too early would miss it.
   */
  uncertainSettleMs?: number;
  /**
   * How long a source that cannot be read (a spool whose server is down, an
   * unreachable secondary region) holds up the others, in ms (default 15
   * minutes). Until then a drain stops where that source's records would be
   * needed, keeping per-key order; after it, the others drain without it, and
   * records of a key still in it arrive after newer ones once it is back.
   */
  unavailableSourceWaitMs?: number;
  delivery?: DeliveryOptions;
}

/** Default of {@link ReconcilerOptions.unavailableSourceWaitMs}: as long as the failback gate waits for the backlog. */
const UNAVAILABLE_SOURCE_WAIT_MS = 15 * 60_000;

/** The uncertain-writes list, and a way to check the primary for ids. */
export interface UncertainWriteChecks {
  writes: UncertainWrites;
  /** Which of `ids` the primary holds among the records written since `sinceMs`. */
  findWritten(ids: ReadonlySet<string>, sinceMs: number, signal: AbortSignal): Promise<string[]>;
}

/** How far before an uncertain write to read the primary, for clock skew between us and the service. */
const SKEW_MS = 60_000;

/** What the reconciler needs; built by the bus. */
export interface ReconcilerDeps {
  primary: GuardedTarget;
  /** The sources to drain, listed afresh for each run. */
  sources: () => Promise<DrainSource[]>;
  dedupe: DedupeStore;
  /** Settles writes whose fate in the primary is unknown (see the invariants). */
  uncertain?: UncertainWriteChecks;
  /** Drain leases of shared fallbacks (see coordination.ts); none: every source listed is drained. */
  coordination?: ReconcilerCoordination;
  events: BusEvents;
  logger: Logger;
}

/** See the module comment. */
export class Reconciler {
  readonly #deps: ReconcilerDeps;
  readonly #options: ReconcilerOptions;
  readonly #pacer: Pacer;
  readonly #abort = new AbortController();
  #running: Promise<ReconcileSummary> | undefined;
  /** When each source that failed its last read first failed (ms): how long it has held up the others. */
  readonly #unreadableSince = new Map<string, number>();

  constructor(deps: ReconcilerDeps, options: ReconcilerOptions = {}) {
    this.#deps = deps;
    this.#options = options;
    this.#pacer = new Pacer(options);
  }

  /** True while a drain runs. */
  get running(): boolean {
    return this.#running !== undefined;
  }

  /** Drain now, or join the drain already running. */
  run(): Promise<ReconcileSummary> {
    this.#running ??= this.#drain().finally(() => {
      this.#running = undefined;
    });
    return this.#running;
  }

  /** Abort the current drain (its uncommitted chunks are handed back) and wait for it. */
  async stop(): Promise<void> {
    this.#abort.abort();
    await this.#running?.catch(() => undefined);
  }

  async #drain(): Promise<ReconcileSummary> {
    const started = performance.now();
    const summary: ReconcileSummary = { written: 0, skippedDuplicates: 0, coalesced: 0, rejected: 0, settled: 0, foreign: 0, otherProducers: 0, durationMs: 0, unavailable: [] };
    const sources = await this.#listSources(summary);
    let newest: Map<string, string> | undefined;
    try {
      newest = await this.#survey(sources, summary);
    } catch (error) {
      summary.error = error instanceof Error ? error.message : String(error);
      this.#deps.coordination?.drained(false);
      summary.durationMs = Math.round(performance.now() - started);
      this.#deps.events.emit('reconciler.done', summary);
      return summary;
    }
    const reader = new MergedReader(sources, this.#options.readRecords ?? 1_000, this.#abort.signal, (source, error) => this.#passOver(source.id, error));
    this.#deps.events.emit('reconciler.start', { sources: sources.map((s) => s.id) });
    let pending: SourceChunk[] = [];
    try {
      for (;;) {
        const window = await reader.next(this.#options.windowRecords ?? 5_000);
        if (!window) break;
        pending = [...window.completed];
        // Settle after reading: every uncertain write recorded before these records reached a source is covered.
        await this.#settle(summary);
        await this.#writeWindow(window.envelopes, summary, newest);
        for (const chunk of window.completed) {
          await chunk.commit();
          pending.shift();
          summary.foreign += chunk.foreign ?? 0;
          summary.otherProducers += chunk.otherProducers ?? 0;
        }
      }
    } catch (error) {
      summary.error = error instanceof Error ? error.message : String(error);
      if (this.#abort.signal.aborted) {
        // Closing the bus mid-drain is not a fault: no stack, and what was not drained stays where it is.
        this.#deps.logger.info({ written: summary.written }, 'Reconciler stopped because the bus is closing; the rest drains after the next start.');
      } else {
        this.#deps.logger.warn({ err: error, written: summary.written }, 'Reconciler stopped before draining everything; it resumes when the primary is healthy.');
      }
      await this.#handBack(reader, pending);
    }
    if (reader.blockedBy && summary.error === undefined) {
      const { source, error } = reader.blockedBy;
      const waitMs = this.#unavailableWaitMs() - (Date.now() - (this.#unreadableSince.get(source) ?? Date.now()));
      this.#deps.logger.warn(
        { source, err: error, written: summary.written, drainsWithoutItInMs: Math.max(0, waitMs) },
        'Drain paused: a source could not be read, and the others wait behind it so that no key is replayed out of order; the next run tries again.',
      );
      await this.#handBack(reader, []);
    }
    // A source read this run (or not reached) no longer counts as unreadable.
    for (const id of [...this.#unreadableSince.keys()]) if (!reader.unavailable.includes(id)) this.#unreadableSince.delete(id);
    summary.unavailable.push(...reader.unavailable);
    // A lease stays fresh (its first drain checks the primary) until a drain read every source.
    this.#deps.coordination?.drained(summary.error === undefined && summary.unavailable.length === 0);
    summary.durationMs = Math.round(performance.now() - started);
    this.#deps.events.emit('reconciler.done', summary);
    return summary;
  }

  /** Hand back the chunks read and not committed (see MergedReader.abandon); a chunk that cannot go back is said at error. */
  async #handBack(reader: MergedReader, uncommitted: readonly SourceChunk[]): Promise<void> {
    for (const e of await reader.abandon(uncommitted)) this.#deps.logger.error({ err: e }, 'Could not hand a chunk back to its source; it is reread after a restart.');
  }

  #unavailableWaitMs(): number {
    return this.#options.unavailableSourceWaitMs ?? UNAVAILABLE_SOURCE_WAIT_MS;
  }

  /** Whether the merge goes on without a source that failed to read: only once it has been unreadable for the whole wait. */
  #passOver(source: string, error: unknown): boolean {
    const now = Date.now();
    const since = this.#unreadableSince.get(source) ?? now;
    this.#unreadableSince.set(source, since);
    if (now - since < this.#unavailableWaitMs()) return false;
    this.#deps.logger.warn(
      { source, err: error, unreadableForMs: now - since },
      'Draining without a source that has been unreadable for too long: records of a key still in it will reach the primary after newer ones once it is back.',
    );
    return true;
  }

  /** Look in the primary for every uncertain write, mark what is there as seen, and forget the batches. */
  async #settle(summary: ReconcileSummary): Promise<void> {
    const uncertain = this.#deps.uncertain;
    const batches = (await uncertain?.writes.list()) ?? [];
    if (!uncertain || batches.length === 0) return;
    const youngest = Math.max(...batches.map((b) => b.recordedAt ?? b.at));
    const waitMs = youngest + (this.#options.uncertainSettleMs ?? 10_000) - Date.now();
    if (waitMs > 0) await wait(waitMs, this.#abort.signal);
    const ids = new Set(batches.flatMap((b) => b.ids));
    const since = Math.min(...batches.map((b) => b.at)) - SKEW_MS;
    // Through the primary's breaker: a primary that cannot be read is as down as one that cannot be written.
    const found = await this.#deps.primary.fire(() => uncertain.findWritten(ids, since, this.#abort.signal));
    if (found.length > 0) await this.#deps.dedupe.markSeen(found, this.#ttl());
    await uncertain.writes.remove(batches);
    summary.settled += found.length;
    this.#deps.logger.info({ batches: batches.length, ids: ids.size, found: found.length }, 'Settled writes whose fate in the primary was unknown.');
  }

  #ttl(): number {
    return this.#options.dedupeTtlMs ?? 7 * 86_400_000;
  }

  async #listSources(summary: ReconcileSummary): Promise<DrainSource[]> {
    return this.#deps.sources().catch((error: unknown) => {
      summary.unavailable.push(`sources: ${error instanceof Error ? error.message : String(error)}`);
      return [];
    });
  }

  /**
   * The newest snapshot id per coalesceKey across the backlog (see survey.ts);
   * with `checkPrimaryFirst`, also marks as written every surveyed id the
   * primary already holds, so records someone else may have drained are not
   * written again (an orphan drain).
   */
  async #survey(sources: readonly DrainSource[], summary: ReconcileSummary): Promise<Map<string, string> | undefined> {
    const backlog = (this.#options.coalesce ?? 'backlog') === 'backlog';
    // A lease just taken over: the previous holder may have died between the primary's acknowledgement and its checkpoint.
    const wanted = this.#options.checkPrimaryFirst === true || this.#deps.coordination?.primaryCheckNeeded() === true;
    const check = wanted && this.#deps.uncertain !== undefined;
    if (!backlog && !check) return undefined;
    const result = await surveySources(sources, this.#abort.signal, this.#deps.logger, { ids: check });
    if (check && result.ids && result.ids.length > 0 && result.oldestSentTime !== undefined) {
      const found = await this.#deps.uncertain?.findWritten(new Set(result.ids), result.oldestSentTime - SKEW_MS, this.#abort.signal);
      if (found && found.length > 0) await this.#deps.dedupe.markSeen(found, this.#ttl());
      summary.settled += found?.length ?? 0;
    }
    return backlog ? result.newest : undefined;
  }

  /** What a drain would do now; writes and consumes nothing. */
  async plan(): Promise<DrainPlan> {
    const sources = await this.#deps.sources();
    return planDrain(sources, this.#deps.dedupe, this.#abort.signal, this.#deps.logger);
  }

  async #writeWindow(envelopes: readonly Envelope[], summary: ReconcileSummary, newest?: ReadonlyMap<string, string>): Promise<void> {
    const { records, duplicates, coalesced } = coalesceWindow(envelopes, newest);
    const unseen = new Set(await this.#deps.dedupe.filterUnseen(records.map((r) => r.id)));
    const toWrite = records.filter((r) => unseen.has(r.id));
    const target = this.#deps.primary.target;
    for (const batch of chunkBatch(toWrite, target.maxBatchRecords, target.maxBatchBytes)) {
      await this.#pacer.take(batch.length, batch.reduce((n, r) => n + recordBytes(r), 0), this.#abort.signal);
      const inFlight: UncertainBatch = { at: Date.now(), ids: batch.map((r) => r.id) };
      await this.#deps.uncertain?.writes.add(inFlight);
      const outcome = await deliverToTier(this.#deps.primary, batch, this.#options.delivery ?? {}, this.#abort.signal);
      const accepted = outcome.accepted.map((e) => e.id);
      if (accepted.length > 0) await this.#deps.dedupe.markSeen(accepted, this.#ttl());
      // A batch that failed in a way that may have landed stays uncertain; the next settle decides.
      // One that was never sent (refused, unreachable) is certain: nothing of it is in the primary.
      if (!outcome.passed.some((p) => isAmbiguousFailure(p.error))) await this.#deps.uncertain?.writes.remove([inFlight]);
      summary.written += accepted.length;
      if (outcome.throttledRounds > 0) this.#pacer.slowDown();
      else this.#pacer.speedUp();
      if (outcome.rejected.length > 0) {
        // Never commit (and so delete) records the primary refused: stop loudly and keep them.
        summary.rejected += outcome.rejected.length;
        this.#deps.logger.error({ records: outcome.rejected.length, err: outcome.rejected[0]?.error }, 'The primary rejects replayed records as invalid; the drain stops and keeps them until this is fixed.');
        throw outcome.rejected[0]?.error;
      }
      if (outcome.passed.length > 0) throw outcome.passed[0]?.error;
    }
    // Counted once the whole window is written: a window that failed is read and judged again.
    summary.skippedDuplicates += duplicates + (records.length - toWrite.length);
    summary.coalesced += coalesced;
    this.#deps.events.emit('reconciler.progress', { written: summary.written, skippedDuplicates: summary.skippedDuplicates, coalesced: summary.coalesced });
  }
}
