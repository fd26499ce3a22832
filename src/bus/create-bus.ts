import { join } from 'node:path';
import { pino, type Logger } from 'pino';
import { createDiskCheckpointStore, createDiskDedupeStore, createDiskSpool, type DiskSpool } from '../../adapters/disk/index.js';
import type { CheckpointStore, DedupeStore, DrainSource } from '../contracts/index.js';
import type { KinesisClient } from '@aws-sdk/client-kinesis';
import { RawWriteIndex } from '../../adapters/kinesis/raw-write-index.js';
import { createKinesisDrainSources, findIdsSince, scanStreamSince } from '../../adapters/kinesis/shard-source.js';
import { createKinesisTarget, type KinesisTarget, type KinesisTargetOptions } from '../../adapters/kinesis/kinesis-target.js';
import type { BusConfig, BusConfigInput, KinesisTargetConfig } from '../config/schema.js';
import { parseBusConfig } from '../config/parse.js';
import type { Clock } from '../envelope/index.js';
import { ConfigError, hasCode, TargetRejectedError } from '../errors/index.js';
import { type LoggerLike, toPinoLogger } from '../logging/logger-like.js';
import type { Target } from '../contracts/index.js';
import { assembleBus, type Bus } from './bus.js';
import { loadInstanceId } from './instance-id.js';

/** Things a bus uses that are not configuration. */
export interface BusDeps {
  /** A pino logger, or any logger with pino's level methods (default: warnings and errors to stderr; `SPILLWAY_LOG_LEVEL` overrides). */
  logger?: Logger | LoggerLike;
  clock?: Clock;
  /**
   * Drain every producer's records from shared fallbacks, not only this one's,
   * skipping those the primary already holds (`spillway drain --orphans`).
   */
  orphans?: boolean;
  /** The client the primary target sends through (the drop-in client passes itself, so its middleware applies). */
  primaryClient?: KinesisClient;
}

/** The default logger: pino to stderr. */
export function defaultLogger(): Logger {
  return pino({ name: 'spillway', level: process.env.SPILLWAY_LOG_LEVEL ?? 'warn' }, pino.destination(2));
}

/**
 * Build a bus from configuration: validate it (a {@link ConfigError} names
 * the field), open the spool, check that each stream exists, and start the
 * reconciler. A target that cannot be reached at start is not an error:
 * writes fail over until it answers.
 */
export async function createBus(input: BusConfigInput, deps: BusDeps = {}): Promise<Bus> {
  const config = parseBusConfig(input);
  const logger = deps.logger ? toPinoLogger(deps.logger, (process.env.SPILLWAY_LOG_LEVEL as 'info' | undefined) ?? 'info') : defaultLogger();
  const primary = createKinesisTarget({ ...kinesisOptions(config.primary), wire: config.envelope, ...(deps.primaryClient ? { client: deps.primaryClient } : {}) });
  const raw = config.envelope === 'none' ? new RawWriteIndex() : undefined;
  const secondaries = config.secondaries.map(kinesisTarget);
  const opened: Closable[] = [primary, ...secondaries];
  let state: LocalState;
  try {
    if (config.verifyStreams) {
      await Promise.all([verifyStream(primary, 'primary', logger), ...secondaries.map((t, i) => verifyStream(t, `secondaries.${i}`, logger))]);
    }
    state = await openLocalState(config, opened);
  } catch (error) {
    // Nothing half-open is left behind: release what was opened, then report the problem.
    for (const resource of opened.reverse()) await resource.close().catch(() => undefined);
    throw error;
  }
  const { spool, dedupe, checkpoints, instanceId } = state;
  // One unreachable region must not stop the others (or the spool) from draining: it becomes one unavailable source.
  const secondarySources = async () =>
    (
      await Promise.all(
        secondaries.map((t) =>
          createKinesisDrainSources({ client: t.client, region: t.region, stream: t.stream, checkpoints, ...(deps.orphans ? { checkpointPrefix: 'orphans:' } : { producer: instanceId }) }).catch((error: unknown): DrainSource[] => [
            { id: t.id, next: () => Promise.reject(error) },
          ]),
        ),
      )
    ).flat();
  const findWritten = raw
    ? (ids: ReadonlySet<string>, sinceMs: number, signal: AbortSignal) =>
        scanStreamSince({ client: primary.client, region: primary.region, stream: primary.stream, sinceMs, signal, match: raw.matcherFor(ids) })
    : (ids: ReadonlySet<string>, sinceMs: number, signal: AbortSignal) =>
        findIdsSince({ client: primary.client, region: primary.region, stream: primary.stream, sinceMs, ids, signal });
  return assembleBus({
    primary: raw ? noting(primary, raw) : primary,
    secondaries,
    spool,
    dedupe,
    secondarySources,
    uncertain: {
      store: checkpoints,
      findWritten,
    },
    closeAlso: [checkpoints],
    instanceId,
    logger,
    ...(deps.clock ? { clock: deps.clock } : {}),
    breaker: config.breaker,
    delivery: config.delivery,
    batching: config.batching,
    failback: config.failback,
    reconciler: deps.orphans ? { ...config.reconciler, checkPrimaryFirst: true } : config.reconciler,
  });
}

interface Closable {
  close(): Promise<void>;
}

interface LocalState {
  spool: DiskSpool;
  dedupe: DedupeStore;
  checkpoints: CheckpointStore;
  instanceId: string;
}

/** Open the spool and the reconciler's state, pushing each onto `opened` as it opens. */
async function openLocalState(config: BusConfig, opened: Closable[]): Promise<LocalState> {
  const stateDir = config.stateDir ?? join(config.spool.dir, 'state');
  const spool = await createDiskSpool({ dir: config.spool.dir, ...pick(config.spool, ['maxBytes', 'maxSegmentBytes']) });
  opened.push(spool);
  const dedupe = await createDiskDedupeStore({ dir: join(stateDir, 'dedupe') });
  opened.push(dedupe);
  const checkpoints = await createDiskCheckpointStore({ dir: join(stateDir, 'checkpoints') });
  opened.push(checkpoints);
  const instanceId = await loadInstanceId(stateDir);
  return { spool, dedupe, checkpoints, instanceId };
}

/** A raw-mode primary that notes each record's fingerprint before sending it (see RawWriteIndex). */
function noting(target: KinesisTarget, index: RawWriteIndex): Target {
  return {
    id: target.id,
    maxBatchRecords: target.maxBatchRecords,
    maxBatchBytes: target.maxBatchBytes,
    put(batch, signal) {
      index.note(batch);
      return target.put(batch, signal);
    },
    probe: (signal) => target.probe(signal),
    close: () => target.close(),
  };
}

function kinesisTarget(c: KinesisTargetConfig): KinesisTarget {
  return createKinesisTarget(kinesisOptions(c));
}

function kinesisOptions(c: KinesisTargetConfig): KinesisTargetOptions {
  return {
    region: c.region,
    stream: c.stream,
    ...(c.endpoint ? { endpoint: c.endpoint } : {}),
    ...(c.credentials ? { credentials: c.credentials } : {}),
    ...(c.requestTimeoutMs ? { requestTimeoutMs: c.requestTimeoutMs } : {}),
  };
}

async function verifyStream(target: KinesisTarget, field: string, logger: Logger): Promise<void> {
  try {
    await target.probe(AbortSignal.timeout(5_000));
  } catch (error) {
    const name = (error as { cause?: { name?: string } }).cause?.name;
    if (hasCode(error, TargetRejectedError.code) && name === 'ResourceNotFoundException') {
      throw new ConfigError(
        `${field}.stream: stream "${target.stream}" does not exist in ${target.region}; create it, or fix ${field}.stream / ${field}.region`,
        { field: `${field}.stream`, target: target.id, cause: error },
      );
    }
    logger.warn({ target: target.id, err: error }, 'Target could not be checked at start; writes fail over until it answers.');
  }
}

function pick<T extends object, K extends keyof T>(obj: T, keys: readonly K[]): Partial<Pick<T, K>> {
  const out: Partial<Pick<T, K>> = {};
  for (const k of keys) if (obj[k] !== undefined) out[k] = obj[k];
  return out;
}
