/**
 * Building a bus from configuration: validate it, build each tier through
 * the registry's descriptors, check every tier (misconfiguration is a
 * ConfigError before any record is accepted; an unreachable tier only a
 * warning), open the spool chain and the reconciler's state, and start.
 */
import { join } from 'node:path';
import { pino, type Logger } from 'pino';
import { createDiskCheckpointStore, createDiskDedupeStore } from '../../adapters/disk/index.js';
import { defaultRegistry, type TierRegistry } from '../../adapters/registry.js';
import { checkTiers, type ComposedTier, composeTiers, misconfiguration, openSpools } from '../config/compose.js';
import { parseBusConfig } from '../config/parse.js';
import type { BusConfig, BusConfigInput } from '../config/schema.js';
import { configWarnings } from '../config/warnings.js';
import type { CheckpointStore, DrainSource, SpoolEvent } from '../contracts/index.js';
import type { Clock } from '../envelope/index.js';
import { assembleBus, type Bus, type BusParts } from './bus.js';

/** Things a bus uses that are not configuration. */
export interface BusDeps {
  /** A pino logger (default: warnings and errors to stderr; `SPILLWAY_LOG_LEVEL` overrides). */
  logger?: Logger;
  clock?: Clock;
  /** Tier and spool kinds (default: every registered kind, `adapters/registry.ts`). */
  registry?: TierRegistry;
}

/** The default logger: pino to stderr. */
export function defaultLogger(): Logger {
  return pino({ name: 'spillway', level: process.env.SPILLWAY_LOG_LEVEL ?? 'warn' }, pino.destination(2));
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
  const registry = deps.registry ?? defaultRegistry;
  const config = parseBusConfig(input, registry);
  const logger = deps.logger ?? defaultLogger();
  const warnings = configWarnings(config, registry);
  for (const w of warnings) logger.warn({ field: w.field }, w.message);
  const checkpoints = deferredCheckpoints();
  const spoolEvents = eventForwarder();
  const tiers = composeTiers(config, registry, { logger, checkpoints: checkpoints.store });
  const opened: Closable[] = tiers.map((t) => t.tier.target);
  let parts: Pick<BusParts, 'spool' | 'dedupe'> & { checkpoints: CheckpointStore };
  try {
    if (config.verifyStreams) await verifyTiers(tiers, logger);
    const spools = await openSpools(config, registry, logger, opened, spoolEvents.push);
    const stateDir = config.stateDir ?? join((config.spools.find((s) => typeof (s as { dir?: unknown }).dir === 'string') as { dir: string }).dir, 'state');
    const dedupe = await createDiskDedupeStore({ dir: join(stateDir, 'dedupe') });
    opened.push(dedupe);
    const store = await createDiskCheckpointStore({ dir: join(stateDir, 'checkpoints') });
    checkpoints.resolve(store);
    parts = { spool: spools, dedupe, checkpoints: store };
  } catch (error) {
    // Nothing half-open is left behind: release what was opened, then report the problem.
    for (const resource of opened.reverse()) await resource.close().catch(() => undefined);
    throw error;
  }
  const bus = assemble(config, tiers, parts, logger, deps.clock);
  spoolEvents.attach(bus);
  // After the caller has had a chance to subscribe (createBus has resolved by then).
  if (warnings.length > 0) setImmediate(() => warnings.forEach((w) => bus.events.emit('config.warning', w)));
  return bus;
}

function assemble(config: BusConfig, tiers: ComposedTier[], parts: Pick<BusParts, 'spool' | 'dedupe'> & { checkpoints: CheckpointStore }, logger: Logger, clock: Clock | undefined): Bus {
  const [primary, ...secondaries] = tiers as [ComposedTier, ...ComposedTier[]];
  const search = primary.tier as { findWritten?: NonNullable<BusParts['uncertain']>['findWritten'] };
  return assembleBus({
    primary: primary.tier.target,
    secondaries: secondaries.map((t) => t.tier.target),
    spool: parts.spool,
    dedupe: parts.dedupe,
    secondarySources: () => secondarySources(secondaries),
    ...(search.findWritten ? { uncertain: { store: parts.checkpoints, findWritten: search.findWritten.bind(primary.tier) } } : {}),
    closeAlso: [parts.checkpoints],
    logger,
    ...(clock ? { clock } : {}),
    breaker: config.breaker,
    delivery: config.delivery,
    batching: config.batching,
    reconciler: config.reconciler,
  });
}

/** One unreachable region must not stop the others (or the spools) from draining: it becomes one unavailable source. */
async function secondarySources(secondaries: readonly ComposedTier[]): Promise<DrainSource[]> {
  const lists = await Promise.all(
    secondaries.map((t) => t.tier.drainSources().catch((error: unknown): DrainSource[] => [{ id: t.tier.target.id, next: () => Promise.reject(error) }])),
  );
  return lists.flat();
}

/** Throw the ConfigError of every misconfigured tier; warn about the unreachable ones. */
async function verifyTiers(tiers: readonly ComposedTier[], logger: Logger): Promise<void> {
  const checked = await checkTiers(tiers);
  const problem = misconfiguration(checked);
  if (problem) throw problem;
  for (const { field, check } of checked) {
    if (!check.writable) logger.warn({ field, err: check.error }, `${check.detail}; writes fail over until it answers.`);
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
