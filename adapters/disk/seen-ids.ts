/**
 * The dedupe store's in-memory set of seen ids with their expiry, kept
 * compactly: a drain of a million records must not hold a million string keys
 * in a `Map` (about 150 bytes each in V8). Canonical ULIDs (every id spillway
 * stamps) are packed to their 16 bytes; any other id (a caller's own) goes to
 * a plain `Map`.
 *
 * Packed ids live in fixed-size pages (extendible hashing): a directory,
 * indexed by the top bits of an id's hash, names the page holding it; inside a
 * page, slots are open-addressed (linear probing on the low hash bits), each
 * 24 bytes: the id's four 32-bit words, then its expiry as a Float64, so one
 * probe touches one cache line. A page more than 3/4 full splits in place: a
 * new page takes the ids whose next hash bit is 1, and the directory doubles
 * (a few KiB) when the page was as deep as it. So the table grows one page at
 * a time and never holds an old and a new copy of itself: memory follows the
 * number of ids (about 32-64 bytes each) without a transient double, and
 * freed pages are never left for the garbage collector to find.
 *
 * Invariants
 * - `get` answers exactly what a `Map<string, number>` holding the same `set`
 *   calls would (with `set` keeping the later of two expiries); `purge`
 *   forgets exactly the entries whose expiry is at or before `now`. Expiries
 *   are kept exactly (Float64 milliseconds).
 * - An expiry of 0 marks an empty slot, so expiries must be > 0 (they are
 *   wall-clock milliseconds).
 * - Every page keeps at least one empty slot, so a probe always ends. A page
 *   that cannot split further (its ids share `maxDepth` top hash bits, which
 *   only crafted ids could) fills up to that one slot; ids beyond it go to the
 *   `Map` with the others, and are looked up there too from then on.
 */
import { isPackableUlid, packUlid, unpackUlid } from '../../src/envelope/ulid-bytes.js';

/** Words per slot: four of packed ULID, two for the Float64 expiry. */
const SLOT_WORDS = 6;
/** Bytes per slot. */
const SLOT_BYTES = SLOT_WORDS * 4;

/** Page geometry; defaults suit the dedupe store, tests shrink them to exercise splits. */
export interface SeenIdsOptions {
  /** Slots per page = 2^pageBits (default 11: 2,048 slots, 48 KiB). */
  pageBits?: number;
  /** Most top hash bits the directory uses (default 20, at most 32 - pageBits). */
  maxDepth?: number;
}

/** A 32-bit hash of the four words of a packed id (every bit of the id counts). */
function hashWords(w0: number, w1: number, w2: number, w3: number): number {
  let h = Math.imul(w0 ^ 0x2545f491, 0x9e3779b1);
  h = Math.imul(h ^ (h >>> 15) ^ w1, 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13) ^ w2, 0xc2b2ae35);
  h = Math.imul(h ^ (h >>> 16) ^ w3, 0x9e3779b1);
  h ^= h >>> 15;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** A compact `id -> expiresAt` map; see the module comment. */
export class SeenIds {
  readonly #pageSlots: number;
  readonly #pageMask: number;
  readonly #maxFill: number;
  readonly #maxDepth: number;
  /** Per page: its slots as words (key at 6s..6s+3) and, over the same buffer, as Float64s (expiry at 3s+2; 0 = empty). */
  #words: Uint32Array[] = [];
  #expiry: Float64Array[] = [];
  /** Per page: how many top hash bits its ids share, those bits, and the ids it holds. */
  #depth: number[] = [];
  #prefix: number[] = [];
  #count: number[] = [];
  /** Page index by the top `#globalDepth` bits of the hash. */
  #directory = new Int32Array(1);
  #globalDepth = 0;
  #packed = 0;
  readonly #other = new Map<string, number>();
  /** Set once a packable id had to go to `#other` (see the invariants). */
  #spilled = false;
  readonly #key = new Uint32Array(4);
  readonly #keyBytes = new Uint8Array(this.#key.buffer);
  /** One page's worth of room for rebuilding a page in place. */
  #scratch: { words: Uint32Array; expiry: Float64Array } | undefined;

  constructor(options: SeenIdsOptions = {}) {
    const pageBits = options.pageBits ?? 11;
    if (!Number.isInteger(pageBits) || pageBits < 2 || pageBits > 16) throw new RangeError(`pageBits must be 2-16, got ${pageBits}`);
    this.#pageSlots = 1 << pageBits;
    this.#pageMask = this.#pageSlots - 1;
    this.#maxFill = (this.#pageSlots * 3) / 4;
    this.#maxDepth = Math.min(options.maxDepth ?? 20, 32 - pageBits);
    this.#reset();
  }

  /** Ids held (expired ones not yet purged included). */
  get size(): number {
    return this.#packed + this.#other.size;
  }

  /** The expiry held for `id`, or undefined. */
  get(id: string): number | undefined {
    if (!isPackableUlid(id)) return this.#other.get(id);
    packUlid(id, this.#keyBytes, 0);
    const [w0, w1, w2, w3] = this.#key as unknown as [number, number, number, number];
    const h = hashWords(w0, w1, w2, w3);
    const page = this.#directory[this.#dirIndex(h)] as number;
    const expiresAt = (this.#expiry[page] as Float64Array)[this.#find(page, h, w0, w1, w2, w3) * 3 + 2] as number;
    if (expiresAt !== 0) return expiresAt;
    return this.#spilled ? this.#other.get(id) : undefined;
  }

  /** Hold `id` until `expiresAt` (> 0), or until the later expiry it already has. */
  set(id: string, expiresAt: number): void {
    if (!(expiresAt > 0)) throw new RangeError(`an expiry must be > 0, got ${expiresAt}`);
    if (!isPackableUlid(id) || (this.#spilled && this.#other.has(id))) {
      this.#other.set(id, Math.max(expiresAt, this.#other.get(id) ?? 0));
      return;
    }
    packUlid(id, this.#keyBytes, 0);
    const [w0, w1, w2, w3] = this.#key as unknown as [number, number, number, number];
    if (!this.#put(w0, w1, w2, w3, expiresAt)) this.#spill(id, expiresAt);
  }

  /** Forget every id whose expiry is at or before `now`. */
  purge(now: number): void {
    for (const [id, expiresAt] of this.#other) if (expiresAt <= now) this.#other.delete(id);
    let packed = 0;
    for (let page = 0; page < this.#words.length; page++) {
      const expiry = this.#expiry[page] as Float64Array;
      let expired = false;
      for (let slot = 0; slot < this.#pageSlots && !expired; slot++) {
        const e = expiry[slot * 3 + 2] as number;
        expired = e !== 0 && e <= now;
      }
      if (expired) this.#rehashPage(page, -1, now);
      packed += this.#count[page] as number;
    }
    this.#packed = packed;
    // Shrink once most ids have expired: start over with as few pages as the live ids need.
    if (this.#words.length > 1 && packed * 8 < this.#words.length * this.#pageSlots) this.#rebuild();
  }

  /** Every id and its expiry (packed ids first, page by page). */
  *entries(): IterableIterator<[string, number]> {
    for (let page = 0; page < this.#words.length; page++) {
      const bytes = new Uint8Array((this.#words[page] as Uint32Array).buffer);
      const expiry = this.#expiry[page] as Float64Array;
      for (let slot = 0; slot < this.#pageSlots; slot++) {
        const expiresAt = expiry[slot * 3 + 2] as number;
        if (expiresAt !== 0) yield [unpackUlid(bytes, slot * SLOT_BYTES), expiresAt];
      }
    }
    yield* this.#other;
  }

  #dirIndex(h: number): number {
    return this.#globalDepth === 0 ? 0 : h >>> (32 - this.#globalDepth);
  }

  /** The slot of `page` holding the key, or the empty slot where it would go. */
  #find(page: number, h: number, w0: number, w1: number, w2: number, w3: number): number {
    const words = this.#words[page] as Uint32Array;
    const expiry = this.#expiry[page] as Float64Array;
    const mask = this.#pageMask;
    let slot = h & mask;
    for (;;) {
      if (expiry[slot * 3 + 2] === 0) return slot;
      const at = slot * SLOT_WORDS;
      if (words[at] === w0 && words[at + 1] === w1 && words[at + 2] === w2 && words[at + 3] === w3) return slot;
      slot = (slot + 1) & mask;
    }
  }

  /** Insert or raise the expiry of a packed id; false when its page is full and cannot split. */
  #put(w0: number, w1: number, w2: number, w3: number, expiresAt: number): boolean {
    const h = hashWords(w0, w1, w2, w3);
    for (;;) {
      const page = this.#directory[this.#dirIndex(h)] as number;
      const slot = this.#find(page, h, w0, w1, w2, w3);
      const expiry = this.#expiry[page] as Float64Array;
      const current = expiry[slot * 3 + 2] as number;
      if (current !== 0) {
        if (expiresAt > current) expiry[slot * 3 + 2] = expiresAt;
        return true;
      }
      const count = this.#count[page] as number;
      if (count >= this.#maxFill && this.#split(page)) continue;
      if (count >= this.#pageSlots - 1) return false;
      const words = this.#words[page] as Uint32Array;
      const at = slot * SLOT_WORDS;
      words[at] = w0;
      words[at + 1] = w1;
      words[at + 2] = w2;
      words[at + 3] = w3;
      expiry[slot * 3 + 2] = expiresAt;
      this.#count[page] = count + 1;
      this.#packed++;
      return true;
    }
  }

  #spill(id: string, expiresAt: number): void {
    this.#spilled = true;
    this.#other.set(id, Math.max(expiresAt, this.#other.get(id) ?? 0));
  }

  /** Split `page` in two by its next hash bit; false when it is already `maxDepth` deep. */
  #split(page: number): boolean {
    const depth = this.#depth[page] as number;
    if (depth >= this.#maxDepth) return false;
    if (depth === this.#globalDepth) {
      const directory = new Int32Array(this.#directory.length * 2);
      for (let i = 0; i < directory.length; i++) directory[i] = this.#directory[i >>> 1] as number;
      this.#directory = directory;
      this.#globalDepth++;
    }
    const prefix = ((this.#prefix[page] as number) * 2) >>> 0;
    this.#depth[page] = depth + 1;
    this.#prefix[page] = prefix;
    const sibling = this.#addPage(depth + 1, prefix + 1);
    // The directory entries for prefix+1 (one run of 2^(globalDepth - depth - 1)) now name the new page.
    const shift = this.#globalDepth - depth - 1;
    const start = (prefix + 1) * 2 ** shift;
    this.#directory.fill(sibling, start, start + 2 ** shift);
    this.#rehashPage(page, sibling, 0);
    return true;
  }

  /**
   * Re-place every entry of `page` expiring after `after`, in `page` or (by
   * the directory) `sibling`; -1: no sibling, every entry stays in `page`.
   */
  #rehashPage(page: number, sibling: number, after: number): void {
    this.#scratch ??= this.#newBuffers();
    const { words: old, expiry: oldExpiry } = this.#scratch;
    old.set(this.#words[page] as Uint32Array);
    (this.#words[page] as Uint32Array).fill(0);
    this.#count[page] = 0;
    for (let slot = 0; slot < this.#pageSlots; slot++) {
      const expiresAt = oldExpiry[slot * 3 + 2] as number;
      if (expiresAt <= after) continue; // empty (0), or expired
      const at = slot * SLOT_WORDS;
      const w0 = old[at] as number;
      const w1 = old[at + 1] as number;
      const w2 = old[at + 2] as number;
      const w3 = old[at + 3] as number;
      const h = hashWords(w0, w1, w2, w3);
      const to = sibling < 0 ? page : (this.#directory[this.#dirIndex(h)] as number);
      const words = this.#words[to] as Uint32Array;
      const i = this.#find(to, h, w0, w1, w2, w3);
      words[i * SLOT_WORDS] = w0;
      words[i * SLOT_WORDS + 1] = w1;
      words[i * SLOT_WORDS + 2] = w2;
      words[i * SLOT_WORDS + 3] = w3;
      (this.#expiry[to] as Float64Array)[i * 3 + 2] = expiresAt;
      this.#count[to] = (this.#count[to] as number) + 1;
    }
  }

  /** Start over with one page and insert every entry of the old pages again. */
  #rebuild(): void {
    const words = this.#words;
    const expiry = this.#expiry;
    this.#reset();
    for (let page = 0; page < words.length; page++) {
      const pageWords = words[page] as Uint32Array;
      const pageExpiry = expiry[page] as Float64Array;
      for (let slot = 0; slot < this.#pageSlots; slot++) {
        const expiresAt = pageExpiry[slot * 3 + 2] as number;
        if (expiresAt === 0) continue;
        const at = slot * SLOT_WORDS;
        if (!this.#put(pageWords[at] as number, pageWords[at + 1] as number, pageWords[at + 2] as number, pageWords[at + 3] as number, expiresAt)) {
          this.#spill(unpackUlid(new Uint8Array(pageWords.buffer), slot * SLOT_BYTES), expiresAt);
        }
      }
    }
  }

  #reset(): void {
    this.#words = [];
    this.#expiry = [];
    this.#depth = [];
    this.#prefix = [];
    this.#count = [];
    this.#directory = new Int32Array(1);
    this.#globalDepth = 0;
    this.#packed = 0;
    this.#addPage(0, 0);
  }

  #addPage(depth: number, prefix: number): number {
    const { words, expiry } = this.#newBuffers();
    this.#words.push(words);
    this.#expiry.push(expiry);
    this.#depth.push(depth);
    this.#prefix.push(prefix);
    this.#count.push(0);
    return this.#words.length - 1;
  }

  #newBuffers(): { words: Uint32Array; expiry: Float64Array } {
    const buffer = new ArrayBuffer(this.#pageSlots * SLOT_BYTES);
    return { words: new Uint32Array(buffer), expiry: new Float64Array(buffer) };
  }
}
