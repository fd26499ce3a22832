/**
 * Composing tiers from a parsed configuration through the registry's
 * descriptors, and checking them: the one place `createBus` and
 * `spillway config check` share. No adapter is named here.
 */
import type { Logger } from 'pino';
import type { SpoolConfig, TierConfig, TierRegistry } from '../../adapters/registry.js';
import type { RemoteTier, Spool, SpoolEvent, TierCheck, TierContext } from '../contracts/index.js';
import { ConfigError, hasCode, type SpillwayError } from '../errors/index.js';
import type { BusConfig } from './schema.js';
import { deadlineSignal } from '../failover/deadline.js';

/** A remote tier with where it sits in the configuration. */
export interface ComposedTier {
  field: string;
  role: 'primary' | 'secondary';
  label: string;
  tier: RemoteTier;
}

/** A tier with what its check found. */
export interface CheckedTier {
  field: string;
  role: 'primary' | 'secondary' | 'spool';
  label: string;
  check: TierCheck;
}

function descriptorOf<D extends { kind: string }>(list: readonly D[], config: { kind: string }, field: string): D {
  const found = list.find((d) => d.kind === config.kind);
  if (!found) throw new ConfigError(`${field}.kind: "${config.kind}" is not a registered kind`, { field: `${field}.kind` });
  return found;
}

/** What every tier shares when composed; see {@link TierContext}. */
export interface ComposeContext extends Omit<TierContext, 'field' | 'role'> {
  /** Build the primary with this instead of its kind's descriptor (the drop-in client sends through itself). */
  primary?: (config: TierConfig, context: TierContext) => RemoteTier;
}

/** Build every remote tier (no network call), primary first. */
export function composeTiers(config: BusConfig, registry: TierRegistry, context: ComposeContext): ComposedTier[] {
  const entries: Array<[string, 'primary' | 'secondary', TierConfig]> = [
    ['primary', 'primary', config.primary],
    ...config.secondaries.map((c, i): [string, 'secondary', TierConfig] => [`secondaries.${i}`, 'secondary', c]),
  ];
  const primaryFactory = context.primary;
  return entries.map(([field, role, c]) => {
    const descriptor = descriptorOf(registry.targets, c, field);
    // Inherits from `context`, not a copy: the producer id is set on it once the bus has opened its state.
    const tierContext: TierContext = Object.create(context, { field: { value: field }, role: { value: role }, logger: { value: context.logger.child({ tier: field }) } }) as TierContext;
    const create = role === 'primary' && primaryFactory ? primaryFactory : (cfg: TierConfig, ctx: TierContext) => descriptor.create(cfg, ctx);
    return { field, role, label: descriptor.describe(c), tier: create(c, tierContext) };
  });
}

/** The configuration field of spool `index` in a chain of `count`. */
export function spoolField(index: number, count: number): string {
  return count === 1 ? 'spool' : `spool.${index}`;
}

/** A short label for each spool, in chain order. */
export function spoolLabels(config: BusConfig, registry: TierRegistry): string[] {
  return config.spools.map((c, i) => descriptorOf(registry.spools, c, spoolField(i, config.spools.length)).describe(c));
}

/**
 * Open every spool of the chain in order, pushing each onto `opened` as it
 * opens (so the caller can release them if a later step fails).
 */
export async function openSpools(
  config: BusConfig,
  registry: TierRegistry,
  logger: Logger,
  opened: Array<{ close(): Promise<void> }>,
  onEvent: (event: SpoolEvent) => void = () => undefined,
): Promise<Spool[]> {
  const spools: Spool[] = [];
  for (const [i, c] of config.spools.entries()) {
    const field = spoolField(i, config.spools.length);
    const descriptor = descriptorOf(registry.spools, c as SpoolConfig, field);
    const spool = await descriptor.open(c, {
      field,
      logger: logger.child({ spool: field }),
      emit: (event) => {
        logSpoolEvent(logger, field, event);
        onEvent(event);
      },
    });
    opened.push(spool);
    spools.push(spool);
  }
  return spools;
}

function logSpoolEvent(logger: Logger, field: string, event: SpoolEvent): void {
  if (event.type === 'durability-warning') logger.warn({ field, spool: event.spool }, event.message);
  else logger.error({ field, ...event }, 'A spool quarantined damaged records; the rest are drained.');
}

/** Check every tier at once, each bounded by `timeoutMs`. */
export async function checkTiers(tiers: readonly ComposedTier[], timeoutMs = 10_000): Promise<CheckedTier[]> {
  return Promise.all(
    tiers.map(async ({ field, role, label, tier }) => {
      const check = await tier.check(deadlineSignal(undefined, timeoutMs)).catch(
        (error: unknown): TierCheck => ({ reachable: false, writable: false, detail: `${field} (${label}): check failed: ${(error as Error).message}`, error: error as SpillwayError }),
      );
      return { field, role, label, check };
    }),
  );
}

/** The checks that found misconfiguration (a ConfigError), as one ConfigError; undefined when none did. */
export function misconfiguration(checked: readonly CheckedTier[]): ConfigError | undefined {
  const errors = checked.flatMap((c) => (c.check.error && hasCode(c.check.error, ConfigError.code) ? [c.check.error as ConfigError] : []));
  const first = errors[0];
  if (!first) return undefined;
  if (errors.length === 1) return first;
  return new ConfigError(`the configuration names tiers that cannot be used:\n${errors.map((e) => `  - ${e.message}`).join('\n')}`, {
    ...(first.field ? { field: first.field } : {}),
    cause: first,
  });
}

/**
 * Check each spool the way a bus would use it: open it (creating and
 * recovering it) and close it again. A spool held open by a running bus
 * reports that it is in use, which is not a fault of the configuration.
 */
export async function checkSpools(config: BusConfig, registry: TierRegistry, logger: Logger, onWarning?: (message: string) => void): Promise<CheckedTier[]> {
  const labels = spoolLabels(config, registry);
  const out: CheckedTier[] = [];
  for (const [i, c] of config.spools.entries()) {
    const field = spoolField(i, config.spools.length);
    const label = labels[i] as string;
    try {
      const spool = await descriptorOf(registry.spools, c, field).open(c, {
        field,
        logger,
        emit: (event) => event.type === 'durability-warning' && onWarning?.(`${field} (${label}): ${event.message}`),
      });
      let records: number;
      try {
        ({ records } = await spool.stats());
      } finally {
        // Closed even when it cannot answer: an open Redis client would keep reconnecting and hold the process.
        await spool.close().catch(() => undefined);
      }
      out.push({ field, role: 'spool', label, check: { reachable: true, writable: true, detail: `opened; holds ${records} records waiting to be drained` } });
    } catch (error) {
      const holder = /is in use by process (\d+)/.exec((error as Error).message)?.[1];
      if (holder) {
        // A running bus holds it: that is the spool working, not a fault; the check leaves it alone.
        out.push({ field, role: 'spool', label, check: { reachable: true, writable: true, detail: `in use by process ${holder} (a running bus); not opened by the check` } });
        continue;
      }
      out.push({ field, role: 'spool', label, check: { reachable: false, writable: false, detail: `${field} (${label}): ${(error as Error).message}`, error: error as SpillwayError } });
    }
  }
  return out;
}
