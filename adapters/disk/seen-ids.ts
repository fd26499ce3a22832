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
 * 20 bytes: the id's four 32-bit words, then its expiry as whole milliseconds
 * after a base held for the table (a Uint32: 49 days of range), so one probe
 * touches one cache line. The base moves up (every held expiry rewritten)
 * when a later expiry does not fit; when the held expiries span more than 24
 * days, or one is not a whole number, the table switches for good to 24-byte
 * slots with the expiry as a Float64. A page more than 3/4 full splits in place: a
 * new page takes the ids whose next hash bit is 1, and the directory doubles
 * (a few KiB) when the page was as deep as it. So the table grows one page at
 * a time and never holds an old and a new copy of itself: memory follows the
 * number of ids (about 27-54 bytes each) without a transient double, and
 * freed pages are never left for the garbage collector to find.
 *
 * Invariants
 * - `get` answers exactly what a `Map<string, number>` holding the same `set`
 *   calls would (with `set` keeping the later of two expiries); `purge`
 *   forgets exactly the entries whose expiry is at or before `now`. Expiries
 *   are kept exactly, in either slot layout.
 * - An expiry of 0 marks an empty slot, so expiries must be > 0 (they are
 *   wall-clock milliseconds).
 * - Every page keeps at least one empty slot, so a probe always ends. A page
 *   that cannot split further (its ids share `maxDepth` top hash bits, which
 *   only crafted ids could) fills up to that one slot; ids beyond it go to the
 *   `Map` with the others, and are looked up there too from then on.
 */
import { isPackableUlid, packUlid, unpackUlid } from '../../src/envelope/ulid-bytes.js';

/** Words per slot: four of packed ULID, then the expiry: one word after the base (narrow), or two as a Float64 (wide). */
const NARROW_WORDS = 5;
const WIDE_WORDS = 6;
/** Most a narrow expiry can be after the base (0 marks an empty slot). */
const NARROW_MAX = 0xffffffff;
/** The base moves only while the held expiries span at most this much, so each move leaves at least as much room again. */
const NARROW_SPAN = 2 ** 31;

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
  /** Slot layout: narrow (expiry after `#base` in one word) until an expiry cannot be held that way, then wide. */
  #wide = false;
  #slotWords = NARROW_WORDS;
  #base = 0;
  #based = false;
  /** Per page: its slots as words (key at w*s..w*s+3, then the expiry) and, when wide, as Float64s (expiry at 3s+2). */
  #words: Uint32Array[] = [];
  #wideExpiry: Float64Array[] = [];
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
  /** One page's worth of room (in the current layout) for rebuilding a page in place. */
  #scratch: Uint32Array | undefined;

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

  /** Bytes per slot of a packed id: 20, or 24 once the table holds its expiries as Float64s. */
  get slotBytes(): number {
    return this.#slotWords * 4;
  }

  /** The expiry held for `id`, or undefined. */
  get(id: string): number | undefined {
    if (!isPackableUlid(id)) return this.#other.get(id);
    packUlid(id, this.#keyBytes, 0);
    const [w0, w1, w2, w3] = this.#key as unknown as [number, number, number, number];
    const h = hashWords(w0, w1, w2, w3);
    const page = this.#directory[this.#dirIndex(h)] as number;
    const expiresAt = this.#expiryAt(page, this.#find(page, h, w0, w1, w2, w3));
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
      let expired = false;
      for (let slot = 0; slot < this.#pageSlots && !expired; slot++) {
        const e = this.#expiryAt(page, slot);
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
      for (let slot = 0; slot < this.#pageSlots; slot++) {
        const expiresAt = this.#expiryAt(page, slot);
        if (expiresAt !== 0) yield [unpackUlid(bytes, slot * this.#slotWords * 4), expiresAt];
      }
    }
    yield* this.#other;
  }

  #dirIndex(h: number): number {
    return this.#globalDepth === 0 ? 0 : h >>> (32 - this.#globalDepth);
  }

  /** The expiry in a slot of `page`, 0 when it is empty. */
  #expiryAt(page: number, slot: number): number {
    if (this.#wide) return (this.#wideExpiry[page] as Float64Array)[slot * 3 + 2] as number;
    const stored = (this.#words[page] as Uint32Array)[slot * NARROW_WORDS + 4] as number;
    return stored === 0 ? 0 : stored + this.#base;
  }

  /** Write a slot's expiry (one that fits the layout: see `#makeRoom`). */
  #setExpiryAt(page: number, slot: number, expiresAt: number): void {
    if (this.#wide) (this.#wideExpiry[page] as Float64Array)[slot * 3 + 2] = expiresAt;
    else (this.#words[page] as Uint32Array)[slot * NARROW_WORDS + 4] = expiresAt - this.#base;
  }

  /** The slot of `page` holding the key, or the empty slot where it would go. */
  #find(page: number, h: number, w0: number, w1: number, w2: number, w3: number): number {
    const words = this.#words[page] as Uint32Array;
    const mask = this.#pageMask;
    const stride = this.#slotWords;
    let slot = h & mask;
    if (this.#wide) {
      const expiry = this.#wideExpiry[page] as Float64Array;
      for (;;) {
        if (expiry[slot * 3 + 2] === 0) return slot;
        const at = slot * stride;
        if (words[at] === w0 && words[at + 1] === w1 && words[at + 2] === w2 && words[at + 3] === w3) return slot;
        slot = (slot + 1) & mask;
      }
    }
    for (;;) {
      const at = slot * stride;
      if (words[at + 4] === 0) return slot;
      if (words[at] === w0 && words[at + 1] === w1 && words[at + 2] === w2 && words[at + 3] === w3) return slot;
      slot = (slot + 1) & mask;
    }
  }

  /** Insert or raise the expiry of a packed id; false when its page is full and cannot split. */
  #put(w0: number, w1: number, w2: number, w3: number, expiresAt: number): boolean {
    if (!this.#wide && !this.#fits(expiresAt)) this.#makeRoom(expiresAt);
    const h = hashWords(w0, w1, w2, w3);
    for (;;) {
      const page = this.#directory[this.#dirIndex(h)] as number;
      const slot = this.#find(page, h, w0, w1, w2, w3);
      const current = this.#expiryAt(page, slot);
      if (current !== 0) {
        if (expiresAt > current) this.#setExpiryAt(page, slot, expiresAt);
        return true;
      }
      const count = this.#count[page] as number;
      if (count >= this.#maxFill && this.#split(page)) continue;
      if (count >= this.#pageSlots - 1) return false;
      const words = this.#words[page] as Uint32Array;
      const at = slot * this.#slotWords;
      words[at] = w0;
      words[at + 1] = w1;
      words[at + 2] = w2;
      words[at + 3] = w3;
      this.#setExpiryAt(page, slot, expiresAt);
      this.#count[page] = count + 1;
      this.#packed++;
      return true;
    }
  }

  /** True when `expiresAt` can be held narrow after the current base. */
  #fits(expiresAt: number): boolean {
    const after = expiresAt - this.#base;
    return this.#based && Number.isInteger(expiresAt) && after >= 1 && after <= NARROW_MAX;
  }

  /** Move the base so `expiresAt` fits narrow, or switch to wide slots when the held expiries span too much for that. */
  #makeRoom(expiresAt: number): void {
    let min = expiresAt;
    let max = expiresAt;
    for (let page = 0; page < this.#words.length; page++) {
      for (let slot = 0; slot < this.#pageSlots; slot++) {
        const e = this.#expiryAt(page, slot);
        if (e === 0) continue;
        if (e < min) min = e;
        if (e > max) max = e;
      }
    }
    if (!Number.isInteger(expiresAt) || max - min > NARROW_SPAN) {
      this.#widen();
      return;
    }
    const base = min - 1;
    const shift = this.#base - base; // stored values after the new base
    for (const words of this.#words) {
      for (let at = 4; at < words.length; at += NARROW_WORDS) if (words[at] !== 0) words[at] = (words[at] as number) + shift;
    }
    this.#base = base;
    this.#based = true;
  }

  /** Rewrite every page with 24-byte slots (Float64 expiries), slot for slot, and keep that layout from now on. */
  #widen(): void {
    for (let page = 0; page < this.#words.length; page++) {
      const narrow = this.#words[page] as Uint32Array;
      const buffer = new ArrayBuffer(this.#pageSlots * WIDE_WORDS * 4);
      const words = new Uint32Array(buffer);
      const expiry = new Float64Array(buffer);
      for (let slot = 0; slot < this.#pageSlots; slot++) {
        const stored = narrow[slot * NARROW_WORDS + 4] as number;
        if (stored === 0) continue;
        words.set(narrow.subarray(slot * NARROW_WORDS, slot * NARROW_WORDS + 4), slot * WIDE_WORDS);
        expiry[slot * 3 + 2] = stored + this.#base;
      }
      this.#words[page] = words;
      this.#wideExpiry[page] = expiry;
    }
    this.#wide = true;
    this.#slotWords = WIDE_WORDS;
    this.#scratch = undefined;
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
    const stride = this.#slotWords;
    const words = this.#words[page] as Uint32Array;
    const old = (this.#scratch ??= new Uint32Array(words.length));
    old.set(words);
    const oldExpiry = this.#wide ? new Float64Array(old.buffer) : undefined;
    words.fill(0);
    this.#count[page] = 0;
    for (let slot = 0; slot < this.#pageSlots; slot++) {
      const at = slot * stride;
      const stored = oldExpiry ? (oldExpiry[slot * 3 + 2] as number) : (old[at + 4] as number);
      if (stored === 0) continue;
      const expiresAt = oldExpiry ? stored : stored + this.#base;
      if (expiresAt <= after) continue;
      const w0 = old[at] as number;
      const w1 = old[at + 1] as number;
      const w2 = old[at + 2] as number;
      const w3 = old[at + 3] as number;
      const h = hashWords(w0, w1, w2, w3);
      const to = sibling < 0 ? page : (this.#directory[this.#dirIndex(h)] as number);
      const toWords = this.#words[to] as Uint32Array;
      const i = this.#find(to, h, w0, w1, w2, w3);
      toWords[i * stride] = w0;
      toWords[i * stride + 1] = w1;
      toWords[i * stride + 2] = w2;
      toWords[i * stride + 3] = w3;
      this.#setExpiryAt(to, i, expiresAt);
      this.#count[to] = (this.#count[to] as number) + 1;
    }
  }

  /** Start over with one page and insert every entry of the old pages again (the layout and base stay). */
  #rebuild(): void {
    const pages = this.#words;
    const wideExpiry = this.#wideExpiry;
    const stride = this.#slotWords;
    this.#reset();
    for (let page = 0; page < pages.length; page++) {
      const words = pages[page] as Uint32Array;
      const expiry = wideExpiry[page];
      for (let slot = 0; slot < this.#pageSlots; slot++) {
        const at = slot * stride;
        const stored = expiry ? (expiry[slot * 3 + 2] as number) : (words[at + 4] as number);
        if (stored === 0) continue;
        const expiresAt = expiry ? stored : stored + this.#base;
        if (!this.#put(words[at] as number, words[at + 1] as number, words[at + 2] as number, words[at + 3] as number, expiresAt)) {
          this.#spill(unpackUlid(new Uint8Array(words.buffer), at * 4), expiresAt);
        }
      }
    }
  }

  #reset(): void {
    this.#words = [];
    this.#wideExpiry = [];
    this.#depth = [];
    this.#prefix = [];
    this.#count = [];
    this.#directory = new Int32Array(1);
    this.#globalDepth = 0;
    this.#packed = 0;
    this.#addPage(0, 0);
  }

  #addPage(depth: number, prefix: number): number {
    const buffer = new ArrayBuffer(this.#pageSlots * this.#slotWords * 4);
    this.#words.push(new Uint32Array(buffer));
    if (this.#wide) this.#wideExpiry.push(new Float64Array(buffer));
    this.#depth.push(depth);
    this.#prefix.push(prefix);
    this.#count.push(0);
    return this.#words.length - 1;
  }
}
