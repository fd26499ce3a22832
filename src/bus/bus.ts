/**
 * The bus: one `send` for producers over the failover router, the batcher in
 * front of it and the reconciler behind it. `assembleBus` wires parts that
 * are already built (tests use memory adapters); `createBus` in
 * create-bus.ts builds them from configuration.
 */
import type { Logger } from 'pino';
import type { CheckpointStore, DedupeStore, DrainSource, Spool, SpoolStats, Target } from '../contracts/index.js';
import { type Clock, createStamper, type Envelope, type RecordInput } from '../envelope/index.js';
import { ClosedError, type SpillwayError } from '../errors/index.js';
import { BusEvents, type ReconcileSummary } from '../events/bus-events.js';
import { type BatcherOptions, SendBatcher } from '../failover/batcher.js';
import type { BreakerOptions } from '../failover/breaker.js';
import type { DeliveryOptions } from '../failover/deliver.js';
import { FailbackGate, type FailbackOptions } from '../failover/failback-gate.js';
import { FailoverRouter, type LandedOn } from '../failover/router.js';
import { spoolAsTarget } from '../failover/spool-target.js';
import type { ReconcilerCoordination } from '../reconciler/coordination.js';
import { Reconciler, type ReconcilerOptions, type UncertainWriteChecks } from '../reconciler/reconciler.js';
import { UncertainWrites } from '../reconciler/uncertain-writes.js';
import { spoolAsSource } from '../reconciler/spool-source.js';
import type { DrainPlan } from '../reconciler/survey.js';

/** Where a sent record landed. */
export interface SendResult {
  id: string;
  landedOn: LandedOn;
}

/** One record's outcome in `sendBatch`. */
export type BatchItemResult = ({ ok: true } & SendResult) | { ok: false; error: SpillwayError };

/** What the spools hold: the sum over the chain, and each spool in chain order. */
export interface SpoolChainStats extends SpoolStats {
  spools: Array<SpoolStats & { id: string }>;
}

/** A point-in-time view of the bus. */
export interface BusStats {
  spool: SpoolChainStats;
  breakers: Array<{ target: string; tier: string; state: 'closed' | 'open' | 'halfOpen' }>;
  queued: number;
  reconciling: boolean;
  /** True while writes go behind a backlog (failback `after-drain`). */
  behindBacklog: boolean;
}

/** The producer-facing bus. */
export interface Bus {
  readonly events: BusEvents;
  /** Resolves once the record is durably held by some tier; rejects for a bad record or when every tier failed. */
  send(input: RecordInput): Promise<SendResult>;
  /**
   * Per-record results, in input order; never all-or-nothing once sent. With
   * `{ rejectInvalid: true }` a record that fails validation fails the whole
   * call before any record is sent (its error's message starts with
   * `Records[i]: ` when there are several), as Kinesis' PutRecords does.
   */
  sendBatch(inputs: readonly RecordInput[], options?: { rejectInvalid?: boolean }): Promise<BatchItemResult[]>;
  /** Drain the spool and secondaries into the primary now (joins a running drain). */
  reconcile(): Promise<ReconcileSummary>;
  /** What a drain would replay, coalesce and skip now, without writing or consuming anything. */
  plan(): Promise<DrainPlan>;
  stats(): Promise<BusStats>;
  /** Flush pending sends, stop the reconciler, release every resource. */
  close(): Promise<void>;
}

/** Already-built parts of a bus. */
export interface BusParts {
  primary: Target;
  secondaries?: readonly Target[];
  /** One spool, or the chain of spools tried in order after the remote tiers (each is drained). */
  spool: Spool | readonly Spool[];
  dedupe: DedupeStore;
  /** Drain sources of the secondaries (the spools' are added by the bus). */
  secondarySources?: () => Promise<DrainSource[]>;
  /**
   * Where writes of unknown fate are recorded, and how to look for ids in the
   * primary; without it, an ambiguous timeout or a crash mid-drain can
   * duplicate records in the primary.
   */
  uncertain?: { store: CheckpointStore; findWritten: UncertainWriteChecks['findWritten'] };
  /** Drain leases of shared fallbacks (the secondary sources listed are already filtered by them). */
  coordination?: ReconcilerCoordination;
  /** Closed with the bus (checkpoint stores and the like). */
  closeAlso?: Array<{ close(): Promise<void> }>;
  logger: Logger;
  clock?: Clock;
  /** This producer's id, stamped on each record so reconcilers sharing a fallback drain their own. */
  instanceId?: string;
  breaker?: BreakerOptions;
  delivery?: DeliveryOptions;
  batching?: BatcherOptions;
  /** When writes return to the primary after a failover (default `after-drain`: behind the backlog, keeping per-key order). */
  failback?: FailbackOptions;
  reconciler?: ReconcilerOptions & { enabled?: boolean; intervalMs?: number };
}

/** Wire a bus from built parts. */
export function assembleBus(parts: BusParts): Bus {
  const events = new BusEvents();
  const { logger } = parts;
  const spools: readonly Spool[] = Array.isArray(parts.spool) ? parts.spool : [parts.spool as Spool];
  const uncertain = parts.uncertain ? { writes: new UncertainWrites(parts.uncertain.store), findWritten: parts.uncertain.findWritten } : undefined;
  const router = new FailoverRouter({
    ...parts,
    spools: spools.map(spoolAsTarget),
    ...(uncertain ? { onUncertain: (batch: { at: number; recordedAt: number; ids: string[] }) => uncertain.writes.add(batch) } : {}),
    events,
    logger,
  });
  const stamp = createStamper({ ...(parts.clock ? { clock: parts.clock } : {}), ...(parts.instanceId ? { producer: parts.instanceId } : {}) });
  let closed = false;
  // Records left the primary: once the primary takes a write again, drain them without waiting for the timer.
  let backlog = false;
  events.on('bus.failover', () => {
    backlog = true;
  });
  const gate = new FailbackGate(
    {
      dispatch: (batch, skipPrimary) => router.dispatch(batch, { skipPrimary }),
      reconcile: async () => {
        await reconciler.run().catch(() => undefined); // let a run that began earlier finish, then start afresh
        return reconciler.run();
      },
      kick: () => kick(),
      primaryHealthy: () => router.primary.state === 'closed',
      events,
      logger,
      ...(parts.clock ? { clock: parts.clock } : {}),
    },
    parts.failback,
  );
  const dispatch = async (batch: readonly Envelope[]) => {
    const outcomes = await gate.dispatch(batch);
    if (backlog && outcomes.some((o) => o.ok && o.landedOn.tier === 'primary')) {
      backlog = false;
      setImmediate(kick);
    }
    return outcomes;
  };
  const batcher = new SendBatcher(dispatch, { maxBatchRecords: parts.primary.maxBatchRecords, maxBatchBytes: parts.primary.maxBatchBytes, ...parts.batching });
  const reconciler = new Reconciler(
    {
      primary: router.primary,
      sources: async () => [...spools.map(spoolAsSource), ...(await secondarySourcesOrUnavailable(parts.secondarySources))],
      dedupe: parts.dedupe,
      ...(uncertain ? { uncertain } : {}),
      ...(parts.coordination ? { coordination: parts.coordination } : {}),
      events,
      logger,
    },
    parts.reconciler,
  );
  const autoReconcile = parts.reconciler?.enabled ?? true;
  const kick = (): void => {
    if (!autoReconcile || closed || router.primary.state !== 'closed') return;
    reconciler.run().catch((error: unknown) => logger.error({ err: error }, 'Reconciler run failed.'));
  };
  let timer: NodeJS.Timeout | undefined;
  parts.coordination?.attach?.(kick);
  if (autoReconcile) {
    events.on('breaker.close', ({ tier }) => tier === 'primary' && kick());
    timer = setInterval(kick, parts.reconciler?.intervalMs ?? 30_000).unref();
    setImmediate(kick);
  }

  async function send(input: RecordInput): Promise<SendResult> {
    if (closed) throw new ClosedError('bus is closed; create a new one to send');
    const envelope = stamp(input);
    return { id: envelope.id, landedOn: await batcher.submit(envelope) };
  }

  return {
    events,
    send,
    async sendBatch(inputs, options) {
      if (closed) throw new ClosedError('bus is closed; create a new one to send');
      // The hot path: one promise for the whole batch, not one per record.
      const envelopes: Envelope[] = [];
      // Only once a record fails validation: the results of the rejected ones, and where each sent one goes.
      let rejected: { results: BatchItemResult[]; at: number[] } | undefined;
      for (let i = 0; i < inputs.length; i++) {
        try {
          envelopes.push(stamp(inputs[i] as RecordInput));
          rejected?.at.push(i);
        } catch (error) {
          if (options?.rejectInvalid) {
            if (error instanceof Error && inputs.length > 1) error.message = `Records[${i}]: ${error.message}`;
            throw error;
          }
          rejected ??= { results: new Array<BatchItemResult>(inputs.length), at: Array.from({ length: i }, (_, k) => k) };
          rejected.results[i] = { ok: false, error: error as SpillwayError };
        }
      }
      // An outcome is a record's result as it is (a landed one carries the id).
      const outcomes: BatchItemResult[] = await batcher.submitAll(envelopes);
      if (!rejected) return outcomes;
      for (let j = 0; j < outcomes.length; j++) rejected.results[rejected.at[j] as number] = outcomes[j] as BatchItemResult;
      return rejected.results;
    },
    reconcile: () => reconciler.run(),
    plan: () => reconciler.plan(),
    async stats() {
      return {
        spool: await spoolChainStats(spools),
        breakers: router.tiers.map((t) => ({ target: t.target.id, tier: t.tier, state: t.state })),
        queued: batcher.queued,
        reconciling: reconciler.running,
        behindBacklog: gate.behind,
      };
    },
    async close() {
      if (closed) return;
      closed = true;
      gate.close();
      if (timer) clearInterval(timer);
      await batcher.flush();
      await reconciler.stop();
      router.shutdown();
      // Release everything even if one release fails; report the first failure.
      const resources = [parts.primary, ...(parts.secondaries ?? []), ...spools, parts.dedupe, ...(parts.closeAlso ?? [])];
      const failures = (await Promise.allSettled(resources.map((r) => r.close()))).filter((r) => r.status === 'rejected');
      if (failures[0]) throw failures[0].reason;
    },
  };
}

/** The secondaries' drain sources; if they cannot be listed, one source that reports why (the drain waits for it, as for any unreadable source). */
async function secondarySourcesOrUnavailable(list: BusParts['secondarySources']): Promise<DrainSource[]> {
  try {
    return (await list?.()) ?? [];
  } catch (error) {
    return [{ id: 'secondaries', next: () => Promise.reject(error) }];
  }
}

/** Each spool's stats and their sum; a spool that cannot say (down) counts as empty and is listed with -1. */
async function spoolChainStats(spools: readonly Spool[]): Promise<SpoolChainStats> {
  const each = await Promise.all(
    spools.map(async (s) => {
      const { records, bytes } = await s.stats().catch(() => ({ records: -1, bytes: -1 }));
      return { id: s.id, records, bytes };
    }),
  );
  const sum = (k: 'records' | 'bytes') => each.reduce((n, s) => n + Math.max(0, s[k]), 0);
  return { records: sum('records'), bytes: sum('bytes'), spools: each };
}
