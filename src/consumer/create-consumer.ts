/**
 * `createConsumer`: one subscription over the primary stream and every
 * Kinesis secondary, each record delivered once (see docs/consumer.md).
 *
 * Invariants:
 * - a shard's checkpoint passes a record only after its handler succeeded
 *   (or it was dead-lettered) and its id was marked seen;
 * - per partition key, records of one shard are handed over in order;
 * - `close` stops reading, lets running handlers finish, writes the
 *   checkpoints of what finished, then releases leases and stores.
 */
import { join } from 'node:path';
import { type Logger, pino } from 'pino';
import type { BusConfigInput } from '../config/schema.js';
import { ClosedError, ValidationError } from '../errors/index.js';
import { createDiskDeadLetter } from './dead-letter.js';
import { createDedupeGate, type DedupeGate } from './dedupe-gate.js';
import { deliverRecord, type PendingRecord } from './delivery.js';
import { createDispatcher } from './dispatcher.js';
import { ConsumerEvents } from './events.js';
import { type ConsumerStores, defaultWorkerId, openConsumerStores } from './open-stores.js';
import { type ConsumerSource, type ShardScheduler, startShardScheduler } from './shard-scheduler.js';
import { runShardWorker } from './shard-worker.js';
import { sourcesFromConfig } from './sources-from-config.js';
import type { ConsumedRecord, ConsumerOptions, DeadLetterSink, RecordHandler } from './types.js';
import { createRecordQueue } from './record-queue.js';
import { validateConsumerOptions } from './validate-options.js';

/** Default dedupe window: longer than any outage the spool is sized to hold. */
export const DEFAULT_DEDUPE_TTL_MS = 7 * 24 * 3600_000;

/** A running (or ready) consumer. */
export interface Consumer extends AsyncIterable<ConsumedRecord> {
  readonly events: ConsumerEvents;
  /** This process's id in the group's lease table. */
  readonly workerId: string;
  /** Deliver records to `handler` until `close` is called (then it resolves; await `close()` for the final checkpoints). */
  run(handler: RecordHandler): Promise<void>;
  /** Shards read now (`<source>/<shardId>`) and the last lag seen per shard, in ms. */
  stats(): { shards: string[]; lagMs: Record<string, number> };
  close(): Promise<void>;
}

/** Create a consumer from the same configuration `createBus` takes. */
export async function createConsumer(config: BusConfigInput | string, options: ConsumerOptions): Promise<Consumer> {
  validateConsumerOptions(options);
  const { sources, stateDir } = await sourcesFromConfig(config);
  const workerId = options.workerId ?? defaultWorkerId();
  const destroyClients = (): void => sources.forEach((s) => s.location.client.destroy());
  const stores = await openConsumerStores(options, stateDir, workerId).catch((e: unknown) => {
    destroyClients();
    throw e;
  });
  const deadLetter = options.deadLetter ?? (await createDiskDeadLetter(join(stores.dir, 'dead-letter')).catch(async (e: unknown) => {
    await stores.close();
    destroyClients();
    throw e;
  }));
  const logger = options.logger ?? pino({ name: 'spillway-consumer', level: process.env.SPILLWAY_LOG_LEVEL ?? 'warn' }, pino.destination(2));
  const events = new ConsumerEvents();
  const takeoverMs = options.takeoverMs ?? 10_000;
  const closing = new AbortController();
  const gate = createDedupeGate({
    store: stores.dedupe,
    ttlMs: options.dedupeTtlMs ?? DEFAULT_DEDUPE_TTL_MS,
    claimMs: takeoverMs,
    onRenewError: (err) => logger.warn({ err, claimMs: takeoverMs }, 'Renewing the claims on ids in hand failed; retrying at the next renewal.'),
  });
  const lagMs: Record<string, number> = {};
  let scheduler: ShardScheduler | undefined;
  let closed = false;
  let closeOnce: Promise<void> | undefined;

  async function shutDown(): Promise<void> {
    closed = true;
    closing.abort();
    await scheduler?.stop();
    gate.close(); // after the workers stopped: claims of records still being handled are renewed until then
    await deadLetter.close().catch(() => undefined);
    destroyClients();
    await stores.close();
  }

  async function run(handler: RecordHandler): Promise<void> {
    if (closed) throw new ClosedError('the consumer is closed');
    if (scheduler) throw new ValidationError('the consumer is already running; call run() once (or iterate it once)');
    scheduler = startPipeline({ options, sources, stores, deadLetter, gate, events, logger, takeoverMs, lagMs, signal: closing.signal }, handler);
    await new Promise<void>((resolve) => closing.signal.addEventListener('abort', () => resolve(), { once: true }));
  }

  const consumer: Consumer = {
    events,
    workerId,
    run,
    stats: () => ({ shards: scheduler?.owned() ?? [], lagMs: { ...lagMs } }),
    close() {
      // Every call gets the first call's promise: a second close() resolves only once the checkpoints are flushed.
      closeOnce ??= shutDown();
      return closeOnce;
    },
    [Symbol.asyncIterator]() {
      return createRecordQueue(run, () => consumer.close());
    },
  };
  return consumer;
}

interface PipelineParts {
  options: ConsumerOptions;
  sources: readonly ConsumerSource[];
  stores: ConsumerStores;
  deadLetter: DeadLetterSink;
  gate: DedupeGate;
  events: ConsumerEvents;
  logger: Logger;
  takeoverMs: number;
  lagMs: Record<string, number>;
  signal: AbortSignal;
}

/** Wire delivery, the dispatcher and the shard scheduler for one handler. */
function startPipeline(parts: PipelineParts, handler: RecordHandler): ShardScheduler {
  const { options, gate, events, logger, lagMs } = parts;
  const retry = options.retry ?? {};
  const delivery = { handler, gate, deadLetter: parts.deadLetter, events, logger, signal: parts.signal, maxAttempts: retry.maxAttempts ?? 5, baseDelayMs: retry.baseDelayMs ?? 100, maxDelayMs: retry.maxDelayMs ?? 5_000 };
  const dispatcher = createDispatcher<PendingRecord>({
    concurrency: options.concurrency ?? 16,
    maxInFlight: options.maxInFlight ?? 2_000,
    keyOf: (item) => `${item.record.source}/${item.record.partitionKey}`,
    process: (item, release) => deliverRecord(delivery, item, release),
    onError: (error) => logger.error({ err: error }, 'Delivery failed unexpectedly.'),
  });
  const onLag = (source: ConsumerSource, shardId: string) => (millisBehind: number) => {
    lagMs[`${source.id}/${shardId}`] = millisBehind;
    events.emit('consumer.lag', { source: source.id, shardId, millisBehind });
  };
  return startShardScheduler({
    sources: parts.sources,
    checkpoints: parts.stores.checkpoints,
    ...(parts.stores.leases ? { leases: parts.stores.leases } : {}),
    takeoverMs: parts.takeoverMs,
    shardRefreshMs: options.shardRefreshMs ?? 5_000,
    events,
    logger,
    runShard: (source, shardId, checkpoints, signal) =>
      runShardWorker(
        {
          location: source.location,
          origin: { tier: source.tier, region: source.location.region, stream: source.location.stream, shardId, source: source.id },
          checkpoints,
          checkpointKey: `${source.id}/${shardId}`,
          gate,
          dispatcher,
          events,
          logger,
          idlePollMs: options.idlePollMs ?? 250,
          readLimit: options.readLimit ?? 1_000,
          onLag: onLag(source, shardId),
        },
        signal,
      ),
  });
}
