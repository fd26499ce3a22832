/**
 * The bus configuration, as zod schemas: one source of truth for the
 * defaults and the error messages. The tier and spool fields are the union
 * of the kinds in a registry (`adapters/registry.ts`), so adding a kind adds
 * its schema here without an edit.
 */
import { z } from 'zod';
import type { SpoolConfig, TierConfig, TierRegistry } from '../../adapters/registry.js';
import { didYouMean } from './suggest.js';

const ms = z.number().int().nonnegative();

/** Everything but the tiers: state, checks, breaker, batching, delivery, reconciler, coordination, dedupe. */
export const commonShape = {
  /** Where the dedupe journal and drain checkpoints live (default: `<dir>/state` of the first spool with a `dir`). */
  stateDir: z.string().min(1).optional(),
  /** Check at start that each tier exists and may be written (default true). */
  verifyStreams: z.boolean().default(true),
  breaker: z
    .object({ errorThresholdPercentage: z.number().min(1).max(100).optional(), volumeThreshold: z.number().int().nonnegative().optional(), resetTimeoutMs: ms.optional(), rollingWindowMs: z.number().int().positive().optional(), consecutiveFailures: z.number().int().positive().optional(), slowFailureMs: ms.optional() })
    .strict()
    .default({}),
  batching: z
    .object({ lingerMs: ms.optional(), maxQueuedRecords: z.number().int().positive().optional(), lanes: z.number().int().min(1, { error: 'batching.lanes must be 1 to 1024' }).max(1024, { error: 'batching.lanes must be 1 to 1024' }).optional() })
    .strict()
    .default({}),
  /**
   * What the primary stream receives: `spillway` (default) the envelope with
   * id and times; `none` exactly the producer's bytes, for consumers that do
   * not use spillway (see docs/drop-in-client.md for what it can deduplicate).
   */
  envelope: z.enum(['spillway', 'none'], { error: 'envelope must be "spillway" or "none"' }).default('spillway'),
  /** When writes return to the primary after a failover (see docs/configuration.md). */
  failback: z
    .object({
      mode: z.enum(['after-drain', 'immediate'], { error: 'failback.mode must be "after-drain" (keeps per-key order) or "immediate"' }).optional(),
      maxBehindMs: z.number().int().positive().optional(),
    })
    .strict()
    .default({}),
  delivery: z
    .object({
      throttleBudgetMs: ms.optional(),
      maxRecordAttempts: z.number().int().positive().optional(),
      /** Retry pacing of throttled and failed records: a random delay up to min(capMs, baseMs * 2^round). */
      backoff: z
        .object({ baseMs: z.number().int().positive().optional(), capMs: z.number().int().positive().optional() })
        .strict()
        .refine((b) => b.baseMs === undefined || b.capMs === undefined || b.baseMs <= b.capMs, { error: 'delivery.backoff.baseMs must not be above capMs' })
        .optional(),
    })
    .strict()
    .default({}),
  reconciler: z
    .object({
      enabled: z.boolean().default(true),
      intervalMs: z.number().int().positive().default(30_000),
      maxRecordsPerSecond: z.number().positive().optional(),
      maxBytesPerSecond: z.number().positive().optional(),
      windowRecords: z.number().int().positive().optional(),
      coalesce: z.enum(['backlog', 'window'], { error: 'reconciler.coalesce must be "backlog" (newest snapshot across the whole backlog) or "window"' }).optional(),
      dedupeTtlMs: z.number().int().positive().optional(),
      uncertainSettleMs: z.number().int().nonnegative().optional(),
      unavailableSourceWaitMs: z.number().int().nonnegative().optional(),
    })
    .strict()
    .default({ enabled: true, intervalMs: 30_000 }),
  /**
   * One reconciler per shared fallback at a time (see docs/coordination.md):
   * the holder of a Redis lease drains every producer's records from it.
   */
  coordination: z
    .object({
      kind: z.literal('redis', { error: 'coordination.kind must be "redis" (the only coordination kind); leave coordination out to drain only this producer\'s records' }),
      url: z.string({ error: 'coordination.url is required: the Redis every producer sharing the fallback reaches, e.g. redis://localhost:6379' }).regex(/^rediss?:\/\//, { error: 'coordination.url must start with redis:// or rediss://, e.g. redis://localhost:6379' }),
      keyPrefix: z.string().min(1, { error: 'coordination.keyPrefix must not be empty; leave it out for the default "spillway:reconciler:"' }).optional(),
      leaseMs: z.number().int().min(1_000, { error: 'coordination.leaseMs must be at least 1000 (a lease renewed every leaseMs/3 needs room for a slow Redis round trip); default 10000' }).optional(),
    })
    .strict()
    .optional(),
  /** Where drained ids are remembered: the local journal (default) or a Redis shared by every producer. */
  dedupe: z
    .object({
      kind: z.literal('redis', { error: 'dedupe.kind must be "redis"; leave dedupe out for the local journal in stateDir' }),
      url: z.string({ error: 'dedupe.url is required, e.g. redis://localhost:6379' }).regex(/^rediss?:\/\//, { error: 'dedupe.url must start with redis:// or rediss://, e.g. redis://localhost:6379' }),
      keyPrefix: z.string().min(1, { error: 'dedupe.keyPrefix must not be empty; leave it out for the default "spillway:dedupe:<primary>:"' }).optional(),
      ttlMs: z.number().int().positive({ error: 'dedupe.ttlMs must be a positive number of ms; default 604800000 (7 days)' }).optional(),
    })
    .strict()
    .optional(),
};

const commonSchema = z.object(commonShape).strict();

/** One object of a registered kind, checked by that kind's own schema. */
function oneOfKinds(descriptors: TierRegistry['targets'] | TierRegistry['spools'], noun: string) {
  const kinds = descriptors.map((d) => d.kind);
  return z.unknown().transform((value, ctx) => {
    if (typeof value !== 'object' || value === null || Array.isArray(value)) {
      ctx.addIssue({ code: 'custom', message: `must be an object with a "kind" (${kinds.join(', ')})` });
      return z.NEVER;
    }
    const kind = (value as { kind?: unknown }).kind;
    const descriptor = descriptors.find((d) => d.kind === kind);
    if (!descriptor) {
      const hint = typeof kind === 'string' ? didYouMean(kind, kinds) : '';
      const said = kind === undefined ? 'kind is required' : `"${String(kind)}" is not a ${noun} kind`;
      ctx.addIssue({ code: 'custom', path: ['kind'], message: `${said}; ${hint ? `${hint} ` : ''}(${noun} kinds: ${kinds.join(', ')})` });
      return z.NEVER;
    }
    const result = descriptor.schema.safeParse(value);
    if (!result.success) {
      const known = shapeKeys(descriptor.schema);
      for (const issue of result.error.issues.flatMap((i) => withKeyHint(i, known))) ctx.addIssue(issue as Parameters<typeof ctx.addIssue>[0]);
      return z.NEVER;
    }
    return result.data as { kind: string };
  });
}

/** One spool or a non-empty list of them; issues keep their paths (`spool.dir`, `spool.1.url`). */
function oneOrMany(item: ReturnType<typeof oneOfKinds>) {
  const list = z.array(item).min(1, { error: 'spool list is empty; give at least one spool, e.g. { kind: "disk", dir }' });
  return z.unknown().transform((value, ctx) => {
    const result = Array.isArray(value) ? list.safeParse(value) : item.safeParse(value);
    if (result.success) return result.data;
    for (const issue of result.error.issues) ctx.addIssue(issue as Parameters<typeof ctx.addIssue>[0]);
    return z.NEVER;
  });
}

/** The long-form bus schema over a registry's kinds. */
export function buildBusSchema(registry: TierRegistry) {
  const tier = oneOfKinds(registry.targets, 'tier');
  const spool = oneOfKinds(registry.spools, 'spool');
  return z
    .object({
      primary: tier,
      secondaries: z.array(tier).default([]),
      spool: oneOrMany(spool),
      ...commonShape,
    })
    .strict();
}

/** The keys an object schema knows (after unwrapping defaults and optionals); empty for anything else. */
export function shapeKeys(schema: unknown): string[] {
  let def = (schema as { _zod?: { def?: { type?: string; innerType?: unknown; shape?: Record<string, unknown> } } })?._zod?.def;
  while (def && (def.type === 'default' || def.type === 'optional' || def.type === 'prefault')) def = (def.innerType as typeof schema & { _zod?: { def?: typeof def } })?._zod?.def;
  return def?.type === 'object' && def.shape ? Object.keys(def.shape) : [];
}

/**
 * Split a zod "unrecognized keys" issue at an object whose keys are `known`
 * into one issue per key, each at the key's own path with the closest known
 * key suggested. Other issues pass through.
 */
export function withKeyHint<I extends { code: string; path: PropertyKey[]; message: string; keys?: string[] }>(issue: I, known: readonly string[]): I[] {
  if (issue.code !== 'unrecognized_keys' || !issue.keys || known.length === 0) return [issue];
  return issue.keys.map((key) => {
    const hint = didYouMean(key, known);
    return { ...issue, keys: [key], path: [...issue.path, key], message: `unknown key "${key}"${hint ? `; ${hint}` : ''} (known keys: ${[...new Set(known)].join(', ')})` };
  });
}

/** The keys of the root object and of each section, for unknown-key hints. */
export const ROOT_SECTIONS: Record<string, string[]> = Object.fromEntries(Object.entries(commonShape).map(([k, v]) => [k, shapeKeys(v)]));

type CommonInput = z.input<typeof commonSchema>;
type CommonOutput = z.output<typeof commonSchema>;

/** The long form: every tier spelled out. */
export type LongFormConfigInput = CommonInput & {
  primary: TierConfig;
  secondaries?: TierConfig[];
  /** One spool, or an ordered chain tried one after another (e.g. Redis, then disk). */
  spool: SpoolConfig | SpoolConfig[];
};

/** The short form: one stream name over a list of regions, primary first. */
export type ShortFormConfigInput = CommonInput & {
  stream: string;
  regions: string[];
  /** Endpoint override per region, for LocalStack or emulators. */
  endpoints?: Record<string, string>;
  credentials?: { accessKeyId: string; secretAccessKey: string; sessionToken?: string };
  requestTimeoutMs?: number;
  spool: SpoolConfig | SpoolConfig[];
};

/** Bus configuration as written by a user: long or short form (defaults optional). */
export type BusConfigInput = LongFormConfigInput | ShortFormConfigInput;

/** Bus configuration after defaults, short form expanded and the spool always a list. */
export type BusConfig = CommonOutput & {
  primary: TierConfig;
  secondaries: TierConfig[];
  spools: SpoolConfig[];
};

/** One Kinesis target's configuration. */
export type { KinesisTierConfig as KinesisTargetConfig } from '../../adapters/kinesis/schema.js';
