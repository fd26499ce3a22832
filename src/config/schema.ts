/**
 * The bus configuration, as zod schemas: one source of truth for the types,
 * the defaults and the error messages.
 */
import { z } from 'zod';

const REGION = /^[a-z]{2}(-[a-z]+)+-\d{1,2}$/;

const region = z
  .string({ error: 'region is required, e.g. "us-east-1"' })
  .regex(REGION, { error: (issue) => `"${String(issue.input)}" is not an AWS region name; use one like "us-east-1"` });

// Not strict: the SDK tags credential objects it has seen with extra fields; those are dropped here.
const credentials = z.object({ accessKeyId: z.string().min(1), secretAccessKey: z.string().min(1), sessionToken: z.string().optional() });

/** A Kinesis stream in one region. */
export const kinesisTargetSchema = z
  .object({
    kind: z.literal('kinesis'),
    region,
    stream: z
      .string({ error: 'stream is required: the Kinesis stream name' })
      .regex(/^[a-zA-Z0-9_.-]{1,128}$/, { error: 'stream must be 1-128 characters of letters, digits, "_", "-" or "."' }),
    endpoint: z.url({ protocol: /^https?$/, error: 'endpoint must be an http(s) URL such as "http://localhost:4566"' }).optional(),
    requestTimeoutMs: z.number().int().positive().optional(),
    credentials: credentials.optional(),
  })
  .strict();

/** A spool on local disk. */
export const diskSpoolSchema = z
  .object({
    kind: z.literal('disk'),
    dir: z.string().min(1, { error: 'spool.dir is required: a directory for the spool files' }),
    maxBytes: z.number().int().positive().optional(),
    maxSegmentBytes: z.number().int().positive().optional(),
  })
  .strict();

const ms = z.number().int().nonnegative();

/** Everything `createBus` accepts. */
export const busConfigSchema = z
  .object({
    primary: kinesisTargetSchema,
    secondaries: z.array(kinesisTargetSchema).default([]),
    spool: diskSpoolSchema,
    /** Where the dedupe journal and drain checkpoints live (default: `<spool.dir>/state`). */
    stateDir: z.string().min(1).optional(),
    /**
     * What the primary stream receives: `spillway` (default) the envelope with
     * id and times; `none` exactly the producer's bytes, for consumers that do
     * not use spillway (see docs/drop-in-client.md for what it can deduplicate).
     */
    envelope: z.enum(['spillway', 'none'], { error: 'envelope must be "spillway" or "none"' }).default('spillway'),
    /** Check at start that each stream exists (default true). */
    verifyStreams: z.boolean().default(true),
    breaker: z
      .object({ errorThresholdPercentage: z.number().min(1).max(100).optional(), volumeThreshold: z.number().int().nonnegative().optional(), resetTimeoutMs: ms.optional(), rollingWindowMs: z.number().int().positive().optional(), consecutiveFailures: z.number().int().positive().optional() })
      .strict()
      .default({}),
    batching: z
      .object({ lingerMs: ms.optional(), maxQueuedRecords: z.number().int().positive().optional() })
      .strict()
      .default({}),
    failback: z
      .object({
        mode: z.enum(['after-drain', 'immediate'], { error: 'failback.mode must be "after-drain" (keeps per-key order) or "immediate"' }).optional(),
        maxBehindMs: z.number().int().positive().optional(),
      })
      .strict()
      .default({}),
    delivery: z
      .object({ throttleBudgetMs: ms.optional(), maxRecordAttempts: z.number().int().positive().optional() })
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
      })
      .strict()
      .default({ enabled: true, intervalMs: 30_000 }),
  })
  .strict();

/** Bus configuration as written by a user (defaults optional). */
export type BusConfigInput = z.input<typeof busConfigSchema>;
/** Bus configuration after defaults. */
export type BusConfig = z.output<typeof busConfigSchema>;
/** One Kinesis target's configuration. */
export type KinesisTargetConfig = z.output<typeof kinesisTargetSchema>;
