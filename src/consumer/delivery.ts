/**
 * Delivering one record: the dedupe gate, the handler with retries and
 * backoff, the dead-letter destination when it keeps failing, then marking
 * the id seen and the record finished for its shard's checkpoint.
 *
 * Invariants:
 * - a record is finished (its checkpoint may pass it) only after the handler
 *   succeeded or the dead-letter destination durably took it, and its id was
 *   marked seen; a record is never dropped because its handler threw;
 * - when the consumer closes mid-way the record is left unfinished: the
 *   checkpoint stays before it and it is read again next time.
 */
import type { Logger } from 'pino';
import { backoffDelay, wait } from '../failover/backoff.js';
import type { DedupeGate } from './dedupe-gate.js';
import type { ConsumerEvents } from './events.js';
import { progressKey } from './record.js';
import type { ShardProgress } from './shard-progress.js';
import type { ConsumedRecord, DeadLetterSink, RecordHandler } from './types.js';

/** A record read and waiting for delivery. */
export interface PendingRecord {
  record: ConsumedRecord;
  progress: ShardProgress;
  /** The store's verdict when the page was read: `busy` means another worker holds a claim (`go`: this worker does, renewed by the gate). */
  verdict: 'go' | 'busy';
}

/** What delivery needs. */
export interface DeliveryContext {
  handler: RecordHandler;
  gate: DedupeGate;
  deadLetter: DeadLetterSink;
  events: ConsumerEvents;
  logger: Logger;
  maxAttempts: number;
  baseDelayMs: number;
  maxDelayMs: number;
  /** Aborts when the consumer closes. */
  signal: AbortSignal;
}

/**
 * Deliver one record (never throws; see the invariants). Returns once the
 * handler is done (or the record was dropped): at once when the handler
 * returned no promise, else a promise. `release` is called once the id is
 * marked seen and the record counted finished for its shard, or the record
 * was dropped or left unfinished.
 */
export function deliverRecord(ctx: DeliveryContext, item: PendingRecord, release: () => void): Promise<void> | undefined {
  const { record, progress } = item;
  if (ctx.signal.aborted) return void release(); // closing: left unfinished, read again next time
  if (!ctx.gate.admit(record.id)) {
    ctx.events.emit('consumer.duplicate', { source: record.source, shardId: record.shardId, id: record.id });
    progress.complete(progressKey(record));
    return void release();
  }
  // Busy: another worker holds the id. Our own claim found taken (after a stall) is treated the same way.
  if (item.verdict === 'busy' || ctx.gate.claimLost(record.id)) return deliverSlowly(ctx, item, release, undefined);
  // The common case: one handler call, and no promise of ours when it returns none.
  let result: Promise<void> | void;
  try {
    result = ctx.handler(record);
  } catch (error) {
    return deliverSlowly(ctx, item, release, { error });
  }
  if (result === undefined || result === null || typeof (result as { then?: unknown }).then !== 'function') return void finish(ctx, item, release);
  return Promise.resolve(result).then(
    () => finish(ctx, item, release),
    (error: unknown) => deliverSlowly(ctx, item, release, { error }),
  );
}

/** A busy claim to wait out (no `firstFailure`), or a handler that failed its first attempt: retries, backoff, dead letter. */
async function deliverSlowly(ctx: DeliveryContext, item: PendingRecord, release: () => void, firstFailure: { error: unknown } | undefined): Promise<void> {
  const { record, progress } = item;
  try {
    if (firstFailure === undefined && (await waitForClaim(ctx, record.id)) === 'duplicate') {
      ctx.events.emit('consumer.duplicate', { source: record.source, shardId: record.shardId, id: record.id });
      ctx.gate.abandon(record.id);
      progress.complete(progressKey(record));
      release();
      return;
    }
    await handleOrDeadLetter(ctx, record, firstFailure);
  } catch (error) {
    stopped(ctx, record, error);
    release();
    return;
  }
  finish(ctx, item, release);
}

/** Mark the id seen (batched by the gate), then count the record finished for its shard and release it. */
function finish(ctx: DeliveryContext, item: PendingRecord, release: () => void): void {
  ctx.gate.finish(item.record.id, (error) => {
    if (error === undefined) {
      item.progress.complete(progressKey(item.record));
      release();
    } else void finishAfterFailure(ctx, item, release, error);
  });
}

/** The seen-mark failed: retry it until it succeeds or the consumer closes (then the record is left unfinished). */
async function finishAfterFailure(ctx: DeliveryContext, item: PendingRecord, release: () => void, first: Error): Promise<void> {
  const { record } = item;
  try {
    let error: Error | undefined = first;
    for (let attempt = 0; error !== undefined; attempt++) {
      ctx.signal.throwIfAborted();
      ctx.events.emit('consumer.error', { source: record.source, shardId: record.shardId, error: `could not mark the record seen: ${describe(error)}` });
      await wait(Math.min(5_000, 100 * 2 ** Math.min(attempt, 6)), ctx.signal);
      error = await new Promise<Error | undefined>((resolve) => ctx.gate.finish(record.id, resolve));
    }
  } catch (error) {
    stopped(ctx, record, error);
    release();
    return;
  }
  item.progress.complete(progressKey(record));
  release();
}

function stopped(ctx: DeliveryContext, record: ConsumedRecord, error: unknown): void {
  if (!ctx.signal.aborted) ctx.logger.error({ err: error, id: record.id }, 'Record delivery stopped unexpectedly; it will be read again.');
  ctx.gate.abandon(record.id);
}

/** Another worker claimed the id: wait until it is seen (drop) or the claim lapses (ours). */
async function waitForClaim(ctx: DeliveryContext, id: string): Promise<'go' | 'duplicate'> {
  for (let attempt = 0; ; attempt++) {
    const verdict = await ctx.gate.recheck(id).catch(() => 'busy' as const);
    if (verdict !== 'busy') return verdict;
    await wait(Math.min(1_000, 50 * 2 ** Math.min(attempt, 5)), ctx.signal);
  }
}

/** Attempts of the handler (the first one already made and failed when `firstFailure` is given), then the dead letter. */
async function handleOrDeadLetter(ctx: DeliveryContext, record: ConsumedRecord, firstFailure: { error: unknown } | undefined): Promise<void> {
  let lastError: unknown;
  for (let attempt = 1; attempt <= ctx.maxAttempts; attempt++) {
    try {
      if (attempt === 1 && firstFailure) throw firstFailure.error;
      await ctx.handler(record);
      return;
    } catch (error) {
      lastError = error;
      ctx.signal.throwIfAborted(); // closing: left unfinished, never dead-lettered for it
      if (attempt === ctx.maxAttempts) break;
      const delayMs = Math.max(1, backoffDelay(attempt - 1, { baseMs: ctx.baseDelayMs, capMs: ctx.maxDelayMs }));
      ctx.events.emit('consumer.retry', { id: record.id, attempt, delayMs, error: describe(error) });
      await wait(delayMs, ctx.signal);
    }
  }
  await persist(ctx, () => ctx.deadLetter.put(record, lastError), 'write the record to the dead-letter destination', record);
  ctx.logger.warn({ id: record.id, source: record.source, shardId: record.shardId, attempts: ctx.maxAttempts, err: lastError }, 'Handler kept failing; the record was dead-lettered.');
  ctx.events.emit('consumer.deadLetter', {
    id: record.id,
    source: record.source,
    shardId: record.shardId,
    sequenceNumber: record.sequenceNumber,
    attempts: ctx.maxAttempts,
    error: describe(lastError),
  });
}

/** Retry a store write until it succeeds or the consumer closes (then throw). */
async function persist(ctx: DeliveryContext, write: () => Promise<void>, what: string, record: ConsumedRecord): Promise<void> {
  for (let attempt = 0; ; attempt++) {
    try {
      await write();
      return;
    } catch (error) {
      ctx.signal.throwIfAborted();
      ctx.events.emit('consumer.error', { source: record.source, shardId: record.shardId, error: `could not ${what}: ${describe(error)}` });
      await wait(Math.min(5_000, 100 * 2 ** Math.min(attempt, 6)), ctx.signal);
    }
  }
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
