/**
 * Building a bus from configuration: validate it, build each tier through
 * the registry's descriptors, check every tier (misconfiguration is a
 * ConfigError before any record is accepted; an unreachable tier only a
 * warning), open the spool chain and the reconciler's state, and start.
 */
import { join } from 'node:path';
import { type LevelWithSilent, pino, type Logger } from 'pino';
import type { Registry } from 'prom-client';
import { createDiskCheckpointStore, createDiskDedupeStore } from '../../adapters/disk/index.js';
import { createReconcilerLeases, createSharedDedupeStore, leaseOwner } from '../../adapters/redis/reconciler-lease.js';
import { defaultRegistry, type TierRegistry } from '../../adapters/registry.js';
import { checkTiers, type ComposeContext, type ComposedTier, composeTiers, misconfiguration, openSpools } from '../config/compose.js';
import { parseBusConfig } from '../config/parse.js';
import type { BusConfig, BusConfigInput } from '../config/schema.js';
import { stateDirOf } from '../config/state-dir.js';
import { configWarnings } from '../config/warnings.js';
import type { CheckpointStore, DedupeStore, DrainSource, SpoolEvent } from '../contracts/index.js';
import type { Clock } from '../envelope/index.js';
import { type LoggerLike, toPinoLogger } from '../logging/logger-like.js';
import { logLevelFromEnv } from '../observability/log-level.js';
import { attachFailoverLog } from '../observability/log-summary.js';
import { instrumentBus } from '../observability/metrics.js';
import { attachStatusFile, STATUS_FILE } from '../observability/status-file.js';
import { DrainCoordinator, routeCheckpoints } from '../reconciler/coordination.js';
import { assembleBus, type Bus, type BusParts } from './bus.js';
import { loadInstanceId } from './instance-id.js';

/** Things a bus uses that are not configuration. */
export interface BusDeps {
  /**
   * A pino logger, or any logger with pino's level methods such as `console`
   * (default: warnings and errors to stderr; `SPILLWAY_LOG_LEVEL` overrides).
   */
  logger?: Logger | LoggerLike;
  clock?: Clock;
  /** Tier and spool kinds (default: every registered kind, `adapters/registry.ts`). */
  kinds?: TierRegistry;
  /** A prom-client registry to export the bus's metrics into (none by default; see docs/operations.md). */
  registry?: Registry;
  /**
   * Drain every producer's records from shared fallbacks, not only this one's,
   * skipping those the primary already holds (`spillway drain --orphans`).
   */
  orphans?: boolean;
  /** Build the primary tier with this instead of its kind's descriptor (the drop-in client sends through itself). */
  primary?: ComposeContext['primary'];
}

/** The default logger: pino to stderr. */
export function defaultLogger(): Logger {
  return pino({ name: 'spillway', level: logLevelFromEnv('warn') }, pino.destination(2));
}

interface Closable {
  close(): Promise<void>;
}

/**
 * Build a bus from configuration (long or short form). Throws a
 * {@link ConfigError} naming the field, the bad value and the fix for an
 * invalid configuration, a tier that does not exist, or an identity that may
 * not use it (unless `verifyStreams: false`). A tier that cannot be reached
 * at start is not an error: writes fail over until it answers.
 */
export async function createBus(input: BusConfigInput, deps: BusDeps = {}): Promise<Bus> {
  const registry = deps.kinds ?? defaultRegistry;
  const config = parseBusConfig(input, registry);
  const logger = deps.logger ? toPinoLogger(deps.logger, logLevelFromEnv('info') as LevelWithSilent) : defaultLogger();
  const warnings = [...configWarnings(config, registry), ...sharedStateWarnings(config)];
  for (const w of warnings) logger.warn({ field: w.field }, w.message);
  const checkpoints = deferredCheckpoints();
  const spoolEvents = eventForwarder();
  const context: ComposeContext & { producer?: string } = { logger, checkpoints: checkpoints.store, wire: config.envelope, orphans: deps.orphans === true || config.coordination !== undefined, ...(deps.primary ? { primary: deps.primary } : {}) };
  const tiers = composeTiers(config, registry, context);
  const opened: Closable[] = tiers.map((t) => t.tier.target);
  let parts: Parts;
  try {
    if (config.verifyStreams) await verifyTiers(tiers, logger);
    const spools = await openSpools(config, registry, logger, opened, spoolEvents.push);
    const stateDir = stateDirOf(config);
    const instanceId = await loadInstanceId(stateDir);
    const dedupe = await openDedupe(config, tiers, stateDir, instanceId);
    opened.push(dedupe);
    const store = await createDiskCheckpointStore({ dir: join(stateDir, 'checkpoints') });
    opened.push(store);
    const coordinator = openCoordinator(config, instanceId, logger);
    if (coordinator) opened.push(coordinator);
    const fallbacks = tiers.slice(1).map((t) => t.tier.target.id);
    // Coordinated sources (orphan positions, `orphans:<fallback>/…`) keep their checkpoints under the lease in Redis.
    checkpoints.resolve(coordinator ? routeCheckpoints(store, coordinator, fallbacks, ORPHAN_PREFIX) : store);
    context.producer = instanceId;
    parts = { spool: spools, dedupe, checkpoints: store, instanceId, ...(coordinator ? { coordinator } : {}) };
  } catch (error) {
    // Nothing half-open is left behind: release what was opened, then report the problem.
    for (const resource of opened.reverse()) await resource.close().catch(() => undefined);
    throw error;
  }
  const bus = observe(assemble(config, tiers, parts, logger, deps), stateDirOf(config), logger, deps.registry);
  spoolEvents.attach(bus);
  // After the caller has had a chance to subscribe (createBus has resolved by then).
  if (warnings.length > 0) setImmediate(() => warnings.forEach((w) => bus.events.emit('config.warning', w)));
  return bus;
}

type Parts = Pick<BusParts, 'spool' | 'dedupe'> & { checkpoints: CheckpointStore; instanceId: string; coordinator?: DrainCoordinator };

/** The checkpoint key prefix of sources read for every producer (adapters/kinesis: orphan positions). */
const ORPHAN_PREFIX = 'orphans:';
/** Default window of drained ids: longer than any outage a spool or a secondary stream is expected to hold (see docs/coordination.md). */
const DEFAULT_DEDUPE_TTL_MS = 7 * 86_400_000;
/** Below this, a record held by a secondary stream for its default retention could outlive its id in the window. */
const MIN_SAFE_DEDUPE_TTL_MS = 86_400_000;

/** The local dedupe journal, or the Redis window every producer shares (`dedupe: { kind: 'redis' }`). */
async function openDedupe(config: BusConfig, tiers: readonly ComposedTier[], stateDir: string, instanceId: string): Promise<DedupeStore> {
  if (!config.dedupe) return createDiskDedupeStore({ dir: join(stateDir, 'dedupe') });
  const keyPrefix = config.dedupe.keyPrefix ?? `spillway:dedupe:${tiers[0]?.tier.target.id ?? 'primary'}:`;
  return createSharedDedupeStore({ url: config.dedupe.url, keyPrefix, owner: leaseOwner(instanceId) });
}

/** Drain leases per shared fallback (`coordination: { kind: 'redis' }`); none without it. */
function openCoordinator(config: BusConfig, instanceId: string, logger: Logger): DrainCoordinator | undefined {
  const c = config.coordination;
  if (!c) return undefined;
  const leases = createReconcilerLeases({ url: c.url, owner: leaseOwner(instanceId), ...(c.keyPrefix ? { keyPrefix: c.keyPrefix } : {}) });
  return new DrainCoordinator({ leases, leaseMs: c.leaseMs ?? 10_000, logger, contend: config.reconciler.enabled });
}

/** Warnings about shared reconciler state, given at start with the other configuration warnings. */
function sharedStateWarnings(config: BusConfig): Array<{ field: string; message: string }> {
  const ttl = config.dedupe?.ttlMs ?? config.reconciler.dedupeTtlMs ?? DEFAULT_DEDUPE_TTL_MS;
  const field = config.dedupe?.ttlMs !== undefined ? 'dedupe.ttlMs' : 'reconciler.dedupeTtlMs';
  if (ttl >= MIN_SAFE_DEDUPE_TTL_MS) return [];
  return [{ field, message: `${field} is ${ttl} ms, less than 24 hours: a record drained after an outage longer than that may be written to the primary twice; raise it to at least 86400000 (default 604800000, 7 days)` }];
}

function assemble(config: BusConfig, tiers: ComposedTier[], parts: Parts, logger: Logger, deps: BusDeps): Bus {
  const [primary, ...secondaries] = tiers as [ComposedTier, ...ComposedTier[]];
  const search = primary.tier;
  const clock = deps.clock;
  return assembleBus({
    primary: primary.tier.target,
    secondaries: secondaries.map((t) => t.tier.target),
    spool: parts.spool,
    dedupe: parts.dedupe,
    secondarySources: () => secondarySources(secondaries, parts.coordinator),
    ...(parts.coordinator ? { coordination: parts.coordinator } : {}),
    ...(search.findWritten ? { uncertain: { store: parts.checkpoints, findWritten: search.findWritten.bind(primary.tier) } } : {}),
    // Closing the bus stops the drain first, then releases the leases with these.
    closeAlso: [parts.checkpoints, ...(parts.coordinator ? [parts.coordinator] : [])],
    instanceId: parts.instanceId,
    logger,
    ...(clock ? { clock } : {}),
    breaker: config.breaker,
    delivery: config.delivery,
    batching: config.batching,
    failback: config.failback,
    reconciler: { ...config.reconciler, ...(deps.orphans ? { checkPrimaryFirst: true } : {}), dedupeTtlMs: config.dedupe?.ttlMs ?? config.reconciler.dedupeTtlMs ?? DEFAULT_DEDUPE_TTL_MS },
  });
}

/** Attach the failover log summary, the status file and (when given a registry) metrics; closing the bus detaches them. */
function observe(inner: Bus, stateDir: string, logger: Logger, registry: Registry | undefined): Bus {
  const summary = attachFailoverLog(inner.events, logger, { spoolRecords: async () => (await inner.stats()).spool.records });
  const status = attachStatusFile({
    path: join(stateDir, STATUS_FILE),
    events: inner.events,
    stats: () => inner.stats(),
    onError: (err: unknown) => logger.debug({ err }, 'Could not write the status file; spillway status shows stale data.'),
  });
  const bus: Bus = {
    ...inner,
    async close() {
      summary.detach();
      await status.close();
      await inner.close();
    },
  };
  return registry ? instrumentBus(bus, registry) : bus;
}

/** One unreachable region becomes one unavailable source: the drain waits for it as for any unreadable source (reconciler.ts). */
async function secondarySources(secondaries: readonly ComposedTier[], coordinator: DrainCoordinator | undefined): Promise<DrainSource[]> {
  // Coordinated: a fallback's sources only while this process holds its drain lease.
  const list = (t: ComposedTier): Promise<DrainSource[]> => (coordinator ? coordinator.sourcesOf(t.tier.target.id, () => t.tier.drainSources()) : t.tier.drainSources());
  const lists = await Promise.all(
    secondaries.map((t) => list(t).catch((error: unknown): DrainSource[] => [{ id: t.tier.target.id, next: () => Promise.reject(error) }])),
  );
  return lists.flat();
}

/** Throw the ConfigError of every misconfigured tier; warn about the unreachable ones. */
async function verifyTiers(tiers: readonly ComposedTier[], logger: Logger): Promise<void> {
  const checked = await checkTiers(tiers);
  const problem = misconfiguration(checked);
  if (problem) throw problem;
  for (const { field, check } of checked) {
    // The detail already says why; the error's stack is for debugging, not for an operator's warning.
    if (!check.writable) logger.warn({ field, code: check.error?.code }, `${check.detail}; writes fail over until it answers.`);
  }
}

/** Holds spool events from before the bus exists and forwards them (and later ones) as bus events once it does. */
function eventForwarder(): { push(event: SpoolEvent): void; attach(bus: Bus): void } {
  let held: SpoolEvent[] = [];
  let bus: Bus | undefined;
  const emit = (b: Bus, event: SpoolEvent): void => {
    if (event.type === 'durability-warning') b.events.emit('spool.durability', { spool: event.spool, message: event.message });
    else b.events.emit('spool.quarantined', { spool: event.spool, file: event.file, offset: event.offset, bytes: event.bytes, reason: event.reason });
  };
  return {
    push(event) {
      if (bus) emit(bus, event);
      else held.push(event);
    },
    attach(b) {
      bus = b;
      const early = held;
      held = [];
      if (early.length > 0) setImmediate(() => early.forEach((e) => emit(b, e)));
    },
  };
}

/** A checkpoint store that the tiers can hold before the real one is opened (after the start checks). */
function deferredCheckpoints(): { store: CheckpointStore; resolve(store: CheckpointStore): void } {
  let real: CheckpointStore | undefined;
  const get = (): CheckpointStore => {
    if (!real) throw new Error('checkpoint store used before the bus opened it');
    return real;
  };
  return {
    store: { get: (key) => get().get(key), set: (key, value) => get().set(key, value), close: async () => real?.close() },
    resolve(store) {
      real = store;
    },
  };
}
