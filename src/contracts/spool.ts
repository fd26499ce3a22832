import type { Envelope } from '../envelope/types.js';

/** A batch handed out by {@link Spool.lease}; ack it once it is safely elsewhere. */
export interface Lease {
  readonly envelopes: readonly Envelope[];
}

/** What a spool holds right now. */
export interface SpoolStats {
  /** Records appended and not yet acknowledged. */
  records: number;
  /** Bytes those records take on the medium. */
  bytes: number;
}

/**
 * The last tier: local, durable, always tried when the others fail.
 *
 * - `append` resolves only once the batch is durable (fsync'd, or the medium's
 *   equivalent). A crash after it resolves loses nothing.
 * - `lease` hands out the oldest records not yet leased, in append order.
 *   Leased records are not handed out again by this instance unless released.
 * - `ack` deletes the leased records for good. `release` returns them, to be
 *   leased again first. After a crash, unacknowledged records come back.
 */
export interface Spool {
  readonly id: string;
  append(batch: readonly Envelope[]): Promise<void>;
  /** Up to `max` records; an empty lease when nothing is waiting. */
  lease(max: number): Promise<Lease>;
  ack(lease: Lease): Promise<void>;
  release(lease: Lease): Promise<void>;
  stats(): Promise<SpoolStats>;
  /**
   * Visit every record not yet acknowledged, in append order, without leasing
   * it (the reconciler's survey for coalescing across the whole backlog).
   * Optional: a spool without it is coalesced window by window.
   */
  scan?(visit: (envelope: Envelope) => void, signal?: AbortSignal): Promise<void>;
  close(): Promise<void>;
}

/**
 * Encrypts spool records at rest (AES-256-GCM). `open` throws a
 * SpoolCorruptError that names `where` when the key is wrong or the bytes
 * were altered; it never returns garbage.
 */
export interface SpoolCipher {
  /** Key id written next to sealed records, so a wrong key is told from damage. */
  readonly keyId: string;
  seal(plain: Uint8Array): Uint8Array;
  open(sealed: Uint8Array, where: string): Uint8Array;
}
