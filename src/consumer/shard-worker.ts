/**
 * Reads one shard into the dispatcher: from its checkpoint (TRIM_HORIZON
 * without one), page by page, asking the dedupe gate about each page, until
 * the shard ends or the worker is stopped.
 *
 * Invariants:
 * - every record handed over is tracked by the shard's progress before any
 *   of its page can finish, so the checkpoint never passes an unfinished record;
 * - a shard is marked ended (`SHARD_END`) only after every one of its records
 *   finished and the last position was written: only then are its children read.
 */
import type { Logger } from 'pino';
import { createShardReader, type StreamLocation } from '../../adapters/kinesis/stream-reader.js';
import type { CheckpointStore } from '../contracts/stores.js';
import { wait } from '../failover/backoff.js';
import type { DedupeGate } from './dedupe-gate.js';
import type { PendingRecord } from './delivery.js';
import type { Dispatcher } from './dispatcher.js';
import type { ConsumerEvents } from './events.js';
import { isAggregated, deaggregate } from '../../adapters/kinesis/aggregation.js';
import type { ShardRecord } from '../../adapters/kinesis/stream-reader.js';
import { progressKey, type ShardOrigin, toConsumedRecord } from './record.js';
import { ShardProgress } from './shard-progress.js';

/** The checkpoint value of a shard read to its end. */
export const SHARD_END = 'SHARD_END';

/** What a shard worker needs. */
export interface ShardWorkerContext {
  location: StreamLocation;
  origin: ShardOrigin;
  checkpoints: CheckpointStore;
  checkpointKey: string;
  gate: DedupeGate;
  dispatcher: Dispatcher<PendingRecord>;
  events: ConsumerEvents;
  logger: Logger;
  idlePollMs: number;
  readLimit: number;
  /** Called with each page's lag. */
  onLag(millisBehind: number): void;
}

/** Read the shard until it ends (`'ended'`) or `signal` aborts (`'stopped'`, after flushing what finished). */
export async function runShardWorker(ctx: ShardWorkerContext, signal: AbortSignal): Promise<'ended' | 'stopped'> {
  const { origin } = ctx;
  const start = await retrying(ctx, signal, () => ctx.checkpoints.get(ctx.checkpointKey));
  if (start === SHARD_END) return 'ended';
  if (signal.aborted) return 'stopped';
  const progress = new ShardProgress(
    async (seq) => {
      await ctx.checkpoints.set(ctx.checkpointKey, seq);
      ctx.events.emit('consumer.checkpoint', { source: origin.source, shardId: origin.shardId, sequenceNumber: seq });
    },
    (error) => ctx.events.emit('consumer.error', { source: origin.source, shardId: origin.shardId, error: `checkpoint not written: ${describe(error)}` }),
    start,
  );
  const reader = createShardReader({ ...ctx.location, shardId: origin.shardId, limit: ctx.readLimit, ...(start ? { after: start } : {}) });
  const read = () => retrying(ctx, signal, () => reader.next(signal));
  let prefetched: ReturnType<typeof read> | undefined = read();
  try {
    while (!signal.aborted) {
      const page = await (prefetched ?? read());
      prefetched = undefined;
      if (page === undefined) break;
      ctx.onLag(page.millisBehind);
      // The next page is read while this one is handled; records are tracked only when dispatched.
      if (page.records.length > 0 && !page.ended) prefetched = read();
      // Aggregates can hold far more user records than the page has Kinesis records: they are handed over (and
      // claimed in the dedupe store) in parts of at most readLimit records, each part after the previous one has room.
      for (const part of unpackInParts(page.records, origin, ctx.readLimit)) {
        if (signal.aborted) break;
        await dispatchPage(ctx, progress, part, signal);
      }
      if (page.ended) {
        await Promise.race([progress.idle(), aborted(signal)]);
        if (signal.aborted) break;
        await progress.flush();
        await retrying(ctx, signal, () => ctx.checkpoints.set(ctx.checkpointKey, SHARD_END));
        return signal.aborted ? 'stopped' : 'ended';
      }
      if (page.records.length === 0) await wait(ctx.idlePollMs, signal).catch(() => undefined);
    }
  } finally {
    // Records already handed over finish (or are abandoned when the consumer closes); then the position is written.
    await Promise.race([progress.idle(), ctx.dispatcher.idle()]);
    await progress.flush();
  }
  return 'stopped';
}

/** A page's records as the handler sees them, in order, in parts of at most `size` records (an aggregate may span parts). */
function* unpackInParts(records: readonly ShardRecord[], origin: ShardOrigin, size: number): Generator<ReturnType<typeof toConsumedRecord>[]> {
  let part: ReturnType<typeof toConsumedRecord>[] = [];
  for (const r of records) {
    for (const record of unpack(r, origin)) {
      part.push(record);
      if (part.length >= size) {
        yield part;
        part = [];
      }
    }
  }
  if (part.length > 0) yield part;
}

/** One Kinesis record as the handler sees it: a KPL aggregate unpacked into its user records, in order. */
function unpack(r: ShardRecord, origin: ShardOrigin): ReturnType<typeof toConsumedRecord>[] {
  if (!isAggregated(r.data)) return [toConsumedRecord(r, origin)];
  // A damaged aggregate (bad digest or framing) is passed through whole, as its bytes, rather than lost.
  let users: ReturnType<typeof deaggregate>;
  try {
    users = deaggregate(r.data, r.partitionKey);
  } catch {
    return [toConsumedRecord(r, origin)];
  }
  // The magic without a matching digest: a plain record, as the KCL reads it.
  if (users.length === 1 && users[0]?.data === r.data) return [toConsumedRecord(r, origin)];
  return users.map((u, i) => toConsumedRecord({ ...r, data: u.data, partitionKey: u.partitionKey }, origin, { subSequenceNumber: i, subSequenceCount: users.length }));
}

async function dispatchPage(ctx: ShardWorkerContext, progress: ShardProgress, records: ReturnType<typeof toConsumedRecord>[], signal: AbortSignal): Promise<void> {
  const verdicts = await retrying(ctx, signal, () => ctx.gate.check(records.map((r) => r.id)));
  if (verdicts === undefined) return; // stopping: the page is neither tracked nor handed over, and is read again
  progress.track(records.map(progressKey));
  for (let i = 0; i < records.length; i++) {
    const record = records[i] as (typeof records)[number];
    if (verdicts[i] === 'duplicate') {
      ctx.events.emit('consumer.duplicate', { source: record.source, shardId: record.shardId, id: record.id });
      progress.complete(progressKey(record));
    } else {
      const item: PendingRecord = { record, progress, verdict: verdicts[i] === 'busy' ? 'busy' : 'go' };
      if (!ctx.dispatcher.offer(item)) await ctx.dispatcher.push(item); // waits for room only when there is none
    }
  }
}

/** Call `fn` until it succeeds or `signal` aborts (then undefined), reporting each failure. */
async function retrying<T>(ctx: ShardWorkerContext, signal: AbortSignal, fn: () => Promise<T>): Promise<T | undefined> {
  for (let attempt = 0; !signal.aborted; attempt++) {
    try {
      return await fn();
    } catch (error) {
      if (signal.aborted) break;
      ctx.events.emit('consumer.error', { source: ctx.origin.source, shardId: ctx.origin.shardId, error: describe(error) });
      // The first failure of a streak and every tenth after it are warnings; the rest are debug (an outage is long).
      const level = attempt % 10 === 0 ? 'warn' : 'debug';
      ctx.logger[level]({ source: ctx.origin.source, shardId: ctx.origin.shardId, attempt: attempt + 1, err: error }, 'Shard read failed; retrying after a pause.');
      await wait(Math.min(5_000, 100 * 2 ** Math.min(attempt, 6)), signal).catch(() => undefined);
    }
  }
  return undefined;
}

function aborted(signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => (signal.aborted ? resolve() : signal.addEventListener('abort', () => resolve(), { once: true })));
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
