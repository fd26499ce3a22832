/**
 * Remembers which record ids have already been written to the primary, so a
 * replay after a crash skips them. Durable: what `markSeen` resolved survives
 * a crash.
 */
export interface DedupeStore {
  /** The ids from `ids` not marked seen (and not expired), in the given order. */
  filterUnseen(ids: readonly string[]): Promise<string[]>;
  markSeen(ids: readonly string[], ttlMs: number): Promise<void>;
  close(): Promise<void>;
}

/** Durable key/value for drain positions (for example per-shard sequence numbers). */
export interface CheckpointStore {
  get(key: string): Promise<string | undefined>;
  set(key: string, value: string): Promise<void>;
  close(): Promise<void>;
}
