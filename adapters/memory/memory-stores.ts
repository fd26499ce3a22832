/**
 * In-memory {@link DedupeStore} and {@link CheckpointStore} for unit tests:
 * the same semantics as the disk stores, without durability.
 */
import type { CheckpointStore, DedupeStore } from '../../src/contracts/stores.js';
import { ClosedError, ValidationError } from '../../src/errors/index.js';

/** Options for {@link createMemoryDedupeStore}. */
export interface MemoryDedupeStoreOptions {
  /** Wall-clock milliseconds; inject one to test expiry. Default `Date.now`. */
  clock?: () => number;
}

/** Create an empty in-memory dedupe store. */
export function createMemoryDedupeStore(options: MemoryDedupeStoreOptions = {}): DedupeStore {
  const clock = options.clock ?? Date.now;
  const seen = new Map<string, number>();
  let nextPurge = 1024;
  let closed = false;
  const assertOpen = (): void => {
    if (closed) throw new ClosedError('dedupe store is closed');
  };
  const purgeExpired = (): void => {
    if (seen.size < nextPurge) return;
    const now = clock();
    for (const [id, expiresAt] of seen) if (expiresAt <= now) seen.delete(id);
    nextPurge = Math.max(1024, 2 * seen.size);
  };
  return {
    async filterUnseen(ids) {
      assertOpen();
      const now = clock();
      return ids.filter((id) => {
        const expiresAt = seen.get(id);
        return expiresAt === undefined || expiresAt <= now;
      });
    },
    async markSeen(ids, ttlMs) {
      assertOpen();
      if (!Number.isFinite(ttlMs) || ttlMs <= 0) throw new ValidationError(`markSeen needs a ttlMs > 0, got ${String(ttlMs)}`);
      const expiresAt = clock() + ttlMs;
      for (const id of ids) seen.set(id, Math.max(expiresAt, seen.get(id) ?? 0));
      purgeExpired();
    },
    async close() {
      closed = true;
    },
  };
}

/** Create an empty in-memory checkpoint store. */
export function createMemoryCheckpointStore(): CheckpointStore {
  const values = new Map<string, string>();
  let closed = false;
  const assertOpen = (): void => {
    if (closed) throw new ClosedError('checkpoint store is closed');
  };
  return {
    async get(key) {
      assertOpen();
      return values.get(key);
    },
    async set(key, value) {
      assertOpen();
      if (typeof key !== 'string' || typeof value !== 'string') throw new ValidationError('checkpoint keys and values must be strings');
      values.set(key, value);
    },
    async close() {
      closed = true;
    },
  };
}
