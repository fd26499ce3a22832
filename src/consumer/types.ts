/**
 * What a consumer hands to its handler, and the options it takes.
 */
import type { Logger } from 'pino';
import type { CheckpointStore, DedupeStore } from '../contracts/stores.js';
import type { ContentType, RecordKind } from '../envelope/index.js';

/** Which kind of tier a record was read from. */
export type ConsumedTier = 'primary' | 'secondary';

/** One record as the handler sees it. */
export interface ConsumedRecord {
  /**
   * The spillway record id; for a record without an envelope,
   * `raw:<region>:<stream>:<shardId>:<sequenceNumber>` (with `:<subSequenceNumber>` for one unpacked from an aggregate).
   */
  readonly id: string;
  /** The payload bytes (the envelope's payload, or the whole record when it has no envelope). */
  readonly data: Uint8Array;
  readonly partitionKey: string;
  /** When the event happened (ms since the epoch); Kinesis' arrival time for a record without an envelope. */
  readonly eventTime: number;
  /** When it was handed to spillway (ms since the epoch); Kinesis' arrival time for a record without an envelope. */
  readonly sentTime: number;
  readonly kind: RecordKind;
  readonly contentType: ContentType;
  /** False for a record another producer (or raw mode) wrote without a spillway envelope. */
  readonly enveloped: boolean;
  readonly tier: ConsumedTier;
  readonly region: string;
  readonly stream: string;
  readonly shardId: string;
  readonly sequenceNumber: string;
  /**
   * For a record unpacked from a KPL aggregate (a producer with `aggregate: true`, or the KPL itself): its place in
   * the aggregate, from 0, and how many records the aggregate holds. All of them share the aggregate's sequence number.
   */
  readonly subSequenceNumber?: number;
  readonly subSequenceCount?: number;
  /** The source id, `kinesis:<region>:<stream>`. */
  readonly source: string;
}

/** A handler; a throw means "retry this record". */
export type RecordHandler = (record: ConsumedRecord) => Promise<void> | void;

/** Where records go whose handler kept failing: never silently dropped. */
export interface DeadLetterSink {
  /** Resolves once the record is durably held; a rejection is retried. */
  put(record: ConsumedRecord, error: unknown): Promise<void>;
  close(): Promise<void>;
}

/** Shard leases for a group of consumer processes (see adapters/redis/shard-leases.ts). */
export interface ShardLeaseStore {
  /** Announce this worker as alive for `ttlMs`; returns how many workers are alive. */
  heartbeat(ttlMs: number): Promise<number>;
  /** Take the lease if nobody holds it (or its holder let it expire); the fencing token, or undefined. */
  acquire(shard: string, ttlMs: number): Promise<number | undefined>;
  /** Extend a held lease; false when it was lost (expired and taken). */
  renew(shard: string, token: number, ttlMs: number): Promise<boolean>;
  release(shard: string, token: number): Promise<void>;
  /** A checkpoint store whose writes succeed only while (shard, token) is still the lease. */
  fencedCheckpoints(shard: string, token: number): CheckpointStore;
  close(): Promise<void>;
}

/** A dedupe store that can also claim ids for handling across processes. */
export interface ClaimingDedupeStore extends DedupeStore {
  /**
   * For each id: `claimed` (nobody has it: it is ours for `claimMs`), `seen`
   * (already handled), or `busy` (another worker's live claim).
   */
  claim(ids: readonly string[], claimMs: number): Promise<Array<'claimed' | 'seen' | 'busy'>>;
}

/** Retry policy for a failing handler. */
export interface HandlerRetryOptions {
  /** Handler attempts before the record is dead-lettered (default 5). */
  maxAttempts?: number;
  /** First backoff in ms (default 100), doubling up to `maxDelayMs` (default 5000). */
  baseDelayMs?: number;
  maxDelayMs?: number;
}

/** Options for `createConsumer`. */
export interface ConsumerOptions {
  /** The consumer group: checkpoints and dedupe are per group. */
  group: string;
  /**
   * Where checkpoints (and the dedupe window) live: on disk for one process
   * (default `<stateDir>/consumer/<group>`), or in Redis for a group of many
   * processes (which also turns on shard leases).
   */
  checkpoints?: { kind: 'disk'; dir?: string } | { kind: 'redis'; url: string; keyPrefix?: string };
  /** Records handled at once across partition keys (default 16); one at a time per key. */
  concurrency?: number;
  /** Records read but not yet finished, at most (default 2000): readers wait for room. */
  maxInFlight?: number;
  retry?: HandlerRetryOptions;
  /** Dead-letter destination (default: a disk spool at `<consumer dir>/dead-letter`). */
  deadLetter?: DeadLetterSink;
  /** How long an id stays in the dedupe window (default 7 days: longer than the spool holds an outage). */
  dedupeTtlMs?: number;
  /** With Redis: how long an unrenewed lease keeps its shard (default 10000, like KCL's failoverTimeMillis). */
  takeoverMs?: number;
  /** Wait between reads of a caught-up shard (default 250). */
  idlePollMs?: number;
  /** How often the shard list is refreshed to find new (child) shards (default 5000). */
  shardRefreshMs?: number;
  /** Records per GetRecords call (default 1000). */
  readLimit?: number;
  /** This process's name in the lease table (default `<hostname>:<pid>:<random>`). */
  workerId?: string;
  logger?: Logger;
  /** Override the stores (tests, or another backend). */
  stores?: { checkpoints: CheckpointStore; dedupe: DedupeStore | ClaimingDedupeStore; leases?: ShardLeaseStore };
}
