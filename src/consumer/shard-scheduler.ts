/**
 * Decides which shards this process reads: every shard of every source,
 * a child only after its parents ended (checkpoint `SHARD_END`, or the parent
 * is gone from the stream), and, with shard leases, only the shards whose
 * lease it holds: its fair share of the group's live workers, renewed every
 * third of the takeover time, taken over when another worker stops renewing.
 *
 * Invariants:
 * - at most one worker per shard in this process;
 * - a lease is released only after its worker stopped and wrote its
 *   checkpoint; a lease found lost stops the worker at once (its checkpoint
 *   writes are fenced by the lease token and fail from then on).
 */
import type { Logger } from 'pino';
import { listShardLineage, type ShardLineage, type StreamLocation } from '../../adapters/kinesis/stream-reader.js';
import type { CheckpointStore } from '../contracts/stores.js';
import { wait } from '../failover/backoff.js';
import type { ConsumerEvents } from './events.js';
import { SHARD_END } from './shard-worker.js';
import type { ConsumedTier, ShardLeaseStore } from './types.js';

/** One stream the consumer reads. */
export interface ConsumerSource {
  location: StreamLocation;
  tier: ConsumedTier;
  /** `kinesis:<region>:<stream>` */
  id: string;
}

/** What the scheduler needs. */
export interface SchedulerContext {
  sources: readonly ConsumerSource[];
  checkpoints: CheckpointStore;
  leases?: ShardLeaseStore;
  takeoverMs: number;
  shardRefreshMs: number;
  events: ConsumerEvents;
  logger: Logger;
  /** Run one shard until it ends or `signal` aborts. */
  runShard(source: ConsumerSource, shardId: string, checkpoints: CheckpointStore, signal: AbortSignal): Promise<'ended' | 'stopped'>;
}

interface Running {
  source: ConsumerSource;
  shardId: string;
  token?: number;
  stop: AbortController;
  reason?: 'leaseLost' | 'rebalance' | 'closing';
  done: Promise<void>;
}

/** The running scheduler. */
export interface ShardScheduler {
  /** Shard keys (`<source>/<shardId>`) this process reads now. */
  owned(): string[];
  stop(): Promise<void>;
}

/** Start scheduling shards. */
export function startShardScheduler(ctx: SchedulerContext): ShardScheduler {
  const running = new Map<string, Running>();
  const finished = new Set<string>();
  const lineage = new Map<string, { at: number; shards: ShardLineage[] }>();
  const closing = new AbortController();
  let wake: (() => void) | undefined;
  const tickMs = ctx.leases ? Math.max(50, Math.floor(ctx.takeoverMs / 3)) : ctx.shardRefreshMs;
  const key = (source: ConsumerSource, shardId: string): string => `${source.id}/${shardId}`;

  async function shardsOf(source: ConsumerSource): Promise<ShardLineage[]> {
    const cached = lineage.get(source.id);
    if (cached && Date.now() - cached.at < ctx.shardRefreshMs) return cached.shards;
    try {
      const shards = await listShardLineage(source.location);
      lineage.set(source.id, { at: Date.now(), shards });
      return shards;
    } catch (error) {
      ctx.events.emit('consumer.error', { source: source.id, error: `could not list shards: ${describe(error)}` });
      return cached?.shards ?? [];
    }
  }

  async function isFinished(k: string): Promise<boolean> {
    if (finished.has(k)) return true;
    if ((await ctx.checkpoints.get(k)) === SHARD_END) finished.add(k);
    return finished.has(k);
  }

  /** Shards that may be read now: not ended, parents ended or gone. */
  async function eligible(): Promise<Array<{ source: ConsumerSource; shardId: string }>> {
    const out: Array<{ source: ConsumerSource; shardId: string }> = [];
    for (const source of ctx.sources) {
      const shards = await shardsOf(source);
      const present = new Set(shards.map((s) => s.shardId));
      for (const shard of shards) {
        const k = key(source, shard.shardId);
        if (finished.has(k)) continue;
        const parents = [shard.parentShardId, shard.adjacentParentShardId].filter((p): p is string => p !== undefined && present.has(p));
        let ready = true;
        for (const p of parents) if (!(await isFinished(key(source, p)))) ready = false;
        if (ready) out.push({ source, shardId: shard.shardId });
      }
    }
    return out;
  }

  function start(source: ConsumerSource, shardId: string, token?: number): void {
    const k = key(source, shardId);
    const stop = new AbortController();
    const signal = AbortSignal.any([stop.signal, closing.signal]);
    const checkpoints = ctx.leases && token !== undefined ? ctx.leases.fencedCheckpoints(k, token) : ctx.checkpoints;
    const entry: Running = { source, shardId, stop, done: Promise.resolve(), ...(token === undefined ? {} : { token }) };
    ctx.events.emit('consumer.shardStart', { source: source.id, shardId, ...(token === undefined ? {} : { token }) });
    entry.done = ctx
      .runShard(source, shardId, checkpoints, signal)
      .catch((error: unknown) => {
        ctx.logger.error({ err: error, shard: k }, 'Shard worker failed; it will be restarted.');
        return 'stopped' as const;
      })
      .then(async (outcome) => {
        if (outcome === 'ended') {
          finished.add(k);
          lineage.delete(source.id); // children may have appeared
        }
        if (ctx.leases && token !== undefined && entry.reason !== 'leaseLost') await ctx.leases.release(k, token).catch(() => undefined);
        running.delete(k);
        ctx.events.emit('consumer.shardStop', { source: source.id, shardId, reason: outcome === 'ended' ? 'ended' : (entry.reason ?? 'closing') });
        wake?.();
      });
    running.set(k, entry);
  }

  function stopWorker(entry: Running, reason: NonNullable<Running['reason']>): void {
    entry.reason ??= reason;
    entry.stop.abort();
  }

  async function leaseTick(shards: Array<{ source: ConsumerSource; shardId: string }>): Promise<void> {
    const leases = ctx.leases as ShardLeaseStore;
    const workers = await leases.heartbeat(ctx.takeoverMs);
    for (const [k, entry] of running) {
      if (entry.reason === 'leaseLost' || entry.token === undefined) continue;
      if (!(await leases.renew(k, entry.token, ctx.takeoverMs))) stopWorker(entry, 'leaseLost');
    }
    const active = [...running.values()].filter((e) => !e.stop.signal.aborted);
    const fair = Math.ceil(shards.length / Math.max(1, workers));
    for (const entry of active.slice(fair)) stopWorker(entry, 'rebalance');
    let held = Math.min(active.length, fair);
    for (const { source, shardId } of shuffle(shards)) {
      if (held >= fair) break;
      const k = key(source, shardId);
      if (running.has(k)) continue;
      const token = await leases.acquire(k, ctx.takeoverMs);
      if (token !== undefined) {
        start(source, shardId, token);
        held++;
      }
    }
  }

  async function tick(): Promise<void> {
    const shards = await eligible();
    if (ctx.leases) return leaseTick(shards);
    for (const { source, shardId } of shards) if (!running.has(key(source, shardId))) start(source, shardId);
  }

  const loop = (async () => {
    while (!closing.signal.aborted) {
      try {
        await tick();
      } catch (error) {
        ctx.events.emit('consumer.error', { source: 'scheduler', error: describe(error) });
      }
      await new Promise<void>((resolve) => {
        wake = resolve;
        void wait(tickMs, closing.signal).catch(() => undefined).then(resolve);
      });
    }
  })();

  return {
    owned: () => [...running.keys()],
    async stop() {
      for (const entry of running.values()) entry.reason ??= 'closing';
      closing.abort();
      wake?.();
      await loop;
      await Promise.all([...running.values()].map((e) => e.done));
    },
  };
}

function shuffle<T>(items: readonly T[]): T[] {
  const out = [...items];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1));
    [out[i], out[j]] = [out[j] as T, out[i] as T];
  }
  return out;
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
