/**
 * Descriptors: how an adapter folder tells the core about one kind of tier or
 * spool. The composition root (`createBus`) looks kinds up in the registry
 * (`adapters/registry.ts`) and never names an adapter itself: adding a kind
 * is a folder that exports one descriptor plus one registration line.
 */
import type { Logger } from 'pino';
import type { ZodType } from 'zod';
import type { SpillwayError } from '../errors/base.js';
import type { DrainSource } from './source.js';
import type { Spool, SpoolCipher } from './spool.js';
import type { CheckpointStore } from './stores.js';
import type { Target } from './target.js';

/** What a tier factory gets besides its own configuration. */
export interface TierContext {
  /** Where the tier sits in the configuration, e.g. `primary` or `secondaries.1`; used in messages. */
  readonly field: string;
  /** `primary` is written to first and drained into; `secondary` tiers hold records during a failover. */
  readonly role: 'primary' | 'secondary';
  readonly logger: Logger;
  /** Durable key/value store for drain positions (per-shard sequence numbers and the like). */
  readonly checkpoints: CheckpointStore;
  /**
   * What the primary receives (primary only): `spillway` (default) the
   * envelope; `none` exactly the producer's bytes (see docs/drop-in-client.md).
   */
  readonly wire?: 'spillway' | 'none';
  /**
   * This producer's instance id, known once the bus has opened its state. A
   * fallback every reader sees in full (a Kinesis stream) drains only this
   * producer's records; a queue hands each message to one reader anyway.
   */
  readonly producer?: string;
  /** Drain every producer's records, at positions of its own (`spillway drain --orphans`). */
  readonly orphans?: boolean;
}

/** What `check` found out about a tier, for `spillway config check` and for start-up. */
export interface TierCheck {
  /** The service answered. */
  reachable: boolean;
  /** The stream, queue, bus or spool exists and this identity may write to it. */
  writable: boolean;
  /** One human sentence: what was checked, or why it is not usable and what to do. */
  detail: string;
  /** The classified error when not usable. A `ConfigError` means misconfiguration (fail at start), anything else an outage. */
  error?: SpillwayError;
}

/** A remote tier built from its configuration. */
export interface RemoteTier {
  readonly target: Target;
  /**
   * Sources the reconciler drains this tier from, listed afresh for each run
   * (a secondary Kinesis stream: one per shard; a queue: one). The primary's is never asked for.
   */
  drainSources(): Promise<DrainSource[]>;
  /**
   * Probe the tier the way `spillway config check` and `createBus` do: resolve
   * with what was found; never throw for an unreachable or misconfigured tier.
   */
  check(signal: AbortSignal): Promise<TierCheck>;
  /**
   * Which of `ids` the tier holds among what was written since `sinceMs`
   * (optional; a primary that has it lets the bus settle writes of unknown
   * fate instead of replaying them).
   */
  findWritten?(ids: ReadonlySet<string>, sinceMs: number, signal: AbortSignal): Promise<string[]>;
}

/** One kind of remote tier (`kinesis`, `sqs`, `eventbridge`), exported by its adapter folder. */
export interface TargetDescriptor<C extends { kind: string } = { kind: string }> {
  readonly kind: C['kind'];
  /** The zod schema of this kind's configuration object: a `kind` literal plus its own fields, `.strict()`. */
  readonly schema: ZodType<C>;
  /** Largest record this kind takes, in bytes as spillway encodes it; a config whose records may be larger is warned about. */
  readonly maxRecordBytes: number;
  /** Build the tier. Makes no network call. */
  create(config: C, context: TierContext): RemoteTier;
  /** A short label for tables and logs, e.g. `kinesis us-west-2/orders`. */
  describe(config: C): string;
}

/** What a spool factory gets besides its own configuration. */
export interface SpoolContext {
  /** Where the spool sits in the configuration, e.g. `spool` or `spool.1`. */
  readonly field: string;
  readonly logger: Logger;
  /** Encrypts records at rest when the configuration asks for it. */
  readonly cipher?: SpoolCipher;
  /** Reports spool events (persistence warnings, quarantined records) to the bus. */
  readonly emit?: (event: SpoolEvent) => void;
}

/** Things a spool tells the bus about itself. */
export type SpoolEvent =
  | { type: 'durability-warning'; spool: string; message: string }
  | { type: 'quarantined'; spool: string; file: string; offset: number; bytes: number; reason: string };

/** One kind of spool (`disk`, `redis`), exported by its adapter folder. */
export interface SpoolDescriptor<C extends { kind: string } = { kind: string }> {
  readonly kind: C['kind'];
  readonly schema: ZodType<C>;
  /** Open (and recover) the spool. Throws a ConfigError or SpoolCorruptError that says what to fix. */
  open(config: C, context: SpoolContext): Promise<Spool>;
  /** True when this spool can fail for a reason a later spool in the chain would not (a network service). */
  readonly remote: boolean;
  describe(config: C): string;
}

