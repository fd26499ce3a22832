/** `delta`: every one matters, replayed in order. `snapshot`: only the latest per `coalesceKey` matters. */
export type RecordKind = 'delta' | 'snapshot';

/** How the payload bytes are to be read. */
export type ContentType = 'application/octet-stream' | 'application/json' | 'text/plain';

/** What a producer hands to `send()`. */
export interface RecordInput {
  /** Kinesis partition key: 1 to 256 characters. Decides the shard and the order. */
  partitionKey: string;
  /** Bytes are sent as they are, a string as UTF-8 text, anything else as JSON. */
  data: Uint8Array | string | unknown;
  /** Defaults to `delta`. */
  kind?: RecordKind;
  /** For snapshots: which snapshots replace each other. Defaults to the partition key. */
  coalesceKey?: string;
  /** When the event happened (defaults to now). */
  eventTime?: Date | number;
  /** Kinesis `ExplicitHashKey`: a decimal 128-bit hash that overrides the partition key's shard choice. */
  explicitHashKey?: string;
}

/**
 * A record as spillway carries it through every tier: a unique, time-ordered
 * id, both times, its kind and the payload. Immutable once stamped.
 */
export interface Envelope {
  /** ULID: unique, and ordered by send time within a process. */
  readonly id: string;
  readonly partitionKey: string;
  readonly kind: RecordKind;
  /** Present exactly when `kind` is `snapshot`. */
  readonly coalesceKey?: string;
  /** Milliseconds since the epoch: when the event happened. */
  readonly eventTime: number;
  /** Milliseconds since the epoch: when it was handed to spillway. */
  readonly sentTime: number;
  readonly contentType: ContentType;
  /** Kinesis `ExplicitHashKey`, kept through every tier so a replay lands on the same shard. */
  readonly explicitHashKey?: string;
  /** The producer instance that sent it: on a fallback shared by several producers, each reconciler drains its own. */
  readonly producer?: string;
  readonly data: Uint8Array;
}
