/**
 * The dedupe store's in-memory set of seen ids with their expiry, kept
 * compactly: a drain of a million records must not hold a million string keys
 * in a `Map` (about 150 bytes each in V8). Canonical ULIDs (every id spillway
 * stamps) are packed to their 16 bytes in an open-addressing table of typed
 * arrays: 16 bytes of id and 8 of expiry per slot, at most 3/4 full, so about
 * 32-64 bytes per id and no object per id for the garbage collector to trace.
 * Any other id (a caller's own) goes to a plain `Map`.
 *
 * Invariants
 * - `get` answers exactly what a `Map<string, number>` holding the same `set`
 *   calls would (with `set` keeping the later of two expiries); `purge`
 *   forgets exactly the entries whose expiry is at or before `now`.
 * - An expiry of 0 marks an empty slot, so expiries must be > 0 (they are
 *   wall-clock milliseconds).
 */
import { isPackableUlid, packUlid, unpackUlid } from '../../src/envelope/ulid-bytes.js';

const MIN_CAPACITY = 1 << 10;

/** A compact `id -> expiresAt` map; see the module comment. */
export class SeenIds {
  #capacity: number;
  #bits: number;
  /** Four 32-bit words of packed ULID per slot. */
  #keys: Uint32Array;
  /** Expiry per slot; 0 = empty. */
  #expiry: Float64Array;
  #packed = 0;
  readonly #other = new Map<string, number>();
  readonly #scratch = new Uint32Array(4);
  readonly #scratchBytes = new Uint8Array(this.#scratch.buffer);

  constructor(capacity = MIN_CAPACITY) {
    this.#bits = Math.max(10, Math.ceil(Math.log2(capacity)));
    this.#capacity = 1 << this.#bits;
    this.#keys = new Uint32Array(this.#capacity * 4);
    this.#expiry = new Float64Array(this.#capacity);
  }

  /** Ids held (expired ones not yet purged included). */
  get size(): number {
    return this.#packed + this.#other.size;
  }

  /** The expiry held for `id`, or undefined. */
  get(id: string): number | undefined {
    if (!isPackableUlid(id)) return this.#other.get(id);
    packUlid(id, this.#scratchBytes, 0);
    const slot = this.#find(this.#scratch);
    return this.#expiry[slot] === 0 ? undefined : this.#expiry[slot];
  }

  /** Hold `id` until `expiresAt` (> 0), or until the later expiry it already has. */
  set(id: string, expiresAt: number): void {
    if (!(expiresAt > 0)) throw new RangeError(`an expiry must be > 0, got ${expiresAt}`);
    if (!isPackableUlid(id)) {
      this.#other.set(id, Math.max(expiresAt, this.#other.get(id) ?? 0));
      return;
    }
    packUlid(id, this.#scratchBytes, 0);
    this.#put(this.#scratch, expiresAt);
  }

  /** Forget every id whose expiry is at or before `now`. */
  purge(now: number): void {
    for (const [id, expiresAt] of this.#other) if (expiresAt <= now) this.#other.delete(id);
    this.#rebuild(this.#capacity, now);
  }

  /** Every id and its expiry (packed ids first, in table order). */
  *entries(): IterableIterator<[string, number]> {
    const bytes = new Uint8Array(this.#keys.buffer);
    for (let slot = 0; slot < this.#capacity; slot++) {
      const expiresAt = this.#expiry[slot] as number;
      if (expiresAt !== 0) yield [unpackUlid(bytes, slot * 16), expiresAt];
    }
    yield* this.#other;
  }

  #put(key: Uint32Array, expiresAt: number): void {
    const slot = this.#find(key);
    const current = this.#expiry[slot] as number;
    if (current !== 0) {
      this.#expiry[slot] = Math.max(current, expiresAt);
      return;
    }
    this.#keys.set(key, slot * 4);
    this.#expiry[slot] = expiresAt;
    this.#packed++;
    if (this.#packed * 4 > this.#capacity * 3) this.#rebuild(this.#capacity * 2, 0);
  }

  /** The slot holding `key`, or the empty slot where it would go (linear probing). */
  #find(key: Uint32Array): number {
    const mask = this.#capacity - 1;
    const w0 = key[0] as number;
    const w1 = key[1] as number;
    const w2 = key[2] as number;
    const w3 = key[3] as number;
    // Fibonacci hashing of the random low words: consecutive monotonic ids spread over the table.
    let slot = (Math.imul(w3 ^ Math.imul(w2, 0x85ebca6b), 0x9e3779b1) >>> (32 - this.#bits)) & mask;
    for (;;) {
      if (this.#expiry[slot] === 0) return slot;
      const at = slot * 4;
      if (this.#keys[at] === w0 && this.#keys[at + 1] === w1 && this.#keys[at + 2] === w2 && this.#keys[at + 3] === w3) return slot;
      slot = (slot + 1) & mask;
    }
  }

  /** Re-insert every entry expiring after `after` into a table of `capacity` slots. */
  #rebuild(capacity: number, after: number): void {
    const keys = this.#keys;
    const expiry = this.#expiry;
    const live = expiry.reduce((n, e) => (e > after ? n + 1 : n), 0);
    while (live * 4 > capacity * 3) capacity *= 2;
    while (capacity > MIN_CAPACITY && live * 8 < capacity) capacity /= 2; // shrink once most have expired
    this.#bits = Math.log2(capacity);
    this.#capacity = capacity;
    this.#keys = new Uint32Array(capacity * 4);
    this.#expiry = new Float64Array(capacity);
    this.#packed = 0;
    for (let slot = 0; slot < expiry.length; slot++) {
      const expiresAt = expiry[slot] as number;
      if (expiresAt > after) this.#put(keys.subarray(slot * 4, slot * 4 + 4), expiresAt);
    }
  }
}
