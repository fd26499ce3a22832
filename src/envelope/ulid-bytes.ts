/**
 * ULIDs as 16 bytes and back. The API keeps ids as 26-character strings; the
 * v2 wire format carries them as the 128 bits they stand for. Only canonical
 * ULIDs (upper-case Crockford base32, first character 0-7) are packed, so
 * unpacking gives back the very same string.
 */
import { randomFillSync } from 'node:crypto';

const ALPHABET = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';
const DECODE = new Int8Array(128).fill(-1);
for (let i = 0; i < ALPHABET.length; i++) DECODE[ALPHABET.charCodeAt(i)] = i;

/** True when `id` is a canonical ULID that {@link packUlid} can carry as 16 bytes. */
export function isPackableUlid(id: string): boolean {
  if (id.length !== 26) return false;
  const first = id.charCodeAt(0);
  if (first < 0x30 || first > 0x37) return false;
  for (let i = 1; i < 26; i++) {
    const c = id.charCodeAt(i);
    if (c >= 128 || DECODE[c] === -1) return false;
  }
  return true;
}

/**
 * Write the 128 bits of a canonical ULID into `out` at `offset` (16 bytes).
 * The caller checks {@link isPackableUlid} first.
 */
export function packUlid(id: string, out: Uint8Array, offset: number): void {
  if (id.startsWith(lastHead)) {
    // One producer's ids share their first 22 characters within a millisecond: those make bytes 0-12 and the
    // top half of byte 13; the last four characters are the low 20 bits.
    const low = ((DECODE[id.charCodeAt(22)] as number) << 15) | ((DECODE[id.charCodeAt(23)] as number) << 10) | ((DECODE[id.charCodeAt(24)] as number) << 5) | (DECODE[id.charCodeAt(25)] as number);
    writeUlidBytes(lastHeadPacked, low, out, offset);
    return;
  }
  packFully(id, out, offset);
  lastHead = id.slice(0, 22);
  lastHeadPacked.bytes.set(out.subarray(offset, offset + 16));
}

/** The first 22 characters of the id packed last, and its bytes (of which the low 20 bits are written afresh; see packUlid). */
let lastHead = '\u0000'.repeat(22);
const lastHeadPacked = { bytes: new Uint8Array(16) };

function packFully(id: string, out: Uint8Array, offset: number): void {
  // 26 characters x 5 bits = 130 bits; the first character holds only 3 (the top 2 are zero).
  let acc = 0;
  let bits = 0;
  let o = offset;
  for (let i = 0; i < 26; i++) {
    acc = (acc << 5) | (DECODE[id.charCodeAt(i)] as number);
    bits += 5;
    if (i === 0) bits -= 2; // drop the two always-zero leading bits
    if (bits >= 8) {
      bits -= 8;
      out[o++] = (acc >>> bits) & 0xff;
      acc &= (1 << bits) - 1;
    }
  }
}

const ALPHABET_CODES: readonly number[] = Array.from(ALPHABET, (c) => c.charCodeAt(0));
const chars: number[] = new Array<number>(26).fill(0);

/** Read 16 bytes at `offset` back into the canonical 26-character ULID. */
export function unpackUlid(bytes: Uint8Array, offset: number): string {
  // Character codes first, then one flat string: appending 26 times would leave a rope
  // that every later hash lookup of the id has to flatten.
  const c = chars;
  const codes = ALPHABET_CODES;
  c[0] = codes[(bytes[offset] as number) >>> 5] as number;
  let acc = (bytes[offset] as number) & 0x1f;
  let bits = 5;
  let i = offset + 1;
  for (let n = 1; n < 26; n++) {
    if (bits < 5) {
      acc = (acc << 8) | (bytes[i++] as number);
      bits += 8;
    }
    bits -= 5;
    c[n] = codes[(acc >>> bits) & 0x1f] as number;
    acc &= (1 << bits) - 1;
  }
  return String.fromCharCode(
    c[0] as number, c[1] as number, c[2] as number, c[3] as number, c[4] as number, c[5] as number, c[6] as number,
    c[7] as number, c[8] as number, c[9] as number, c[10] as number, c[11] as number, c[12] as number,
    c[13] as number, c[14] as number, c[15] as number, c[16] as number, c[17] as number, c[18] as number, c[19] as number,
    c[20] as number, c[21] as number, c[22] as number, c[23] as number, c[24] as number, c[25] as number,
  );
}

/**
 * A PRNG for ulidx's monotonic factory that draws from a pooled buffer of
 * crypto randomness, refilled 4 KiB at a time, instead of one `randomBytes`
 * call per character. The factory itself only draws when the millisecond
 * changes; within a millisecond it increments.
 */
export function pooledRandom(): () => number {
  const pool = new Uint32Array(1024);
  let next = pool.length;
  return () => {
    if (next === pool.length) {
      randomFillSync(pool);
      next = 0;
    }
    return (pool[next++] as number) / 0x1_0000_0000;
  };
}

const PAIRS: string[] = [];
for (let i = 0; i < 1024; i++) PAIRS.push((ALPHABET[i >> 5] as string) + ALPHABET[i & 31]);

function encodeTimePrefix(ms: number): string {
  let out = '';
  let t = ms;
  for (let i = 0; i < 10; i++) {
    out = (ALPHABET[t % 32] as string) + out;
    t = Math.floor(t / 32);
  }
  return out;
}

/**
 * The 16 bytes shared by every id of one head (time and the first 12 random
 * characters): bytes 0-12 and the top half of byte 13 (the low 20 bits are
 * not read). A source replaces its head, never changes it, when the head
 * changes.
 */
export interface UlidHead {
  readonly bytes: Uint8Array;
}

/** Write the 16 bytes of the id made of `head` and the low 20 bits `low` into `out` at `offset`. */
export function writeUlidBytes(head: UlidHead, low: number, out: Uint8Array, offset: number): void {
  out.set(head.bytes, offset);
  out[offset + 13] = ((head.bytes[13] as number) & 0xf0) | (low >>> 16);
  out[offset + 14] = (low >>> 8) & 0xff;
  out[offset + 15] = low & 0xff;
}

/**
 * A monotonic ULID source (the ULID spec's monotonic mode, as ulidx's
 * `monotonicFactory`): within one millisecond the 80-bit random part is
 * incremented by one; a new millisecond draws fresh randomness. Cheaper per
 * id than ulidx: the time prefix and the first 12 random characters are
 * cached strings, and only the last four characters are built per id.
 * A clock that goes backwards keeps the last time, so ids never go down.
 *
 * After each `next`, `head` and `low` describe the id just made, so an
 * encoder can write its 16 bytes ({@link writeUlidBytes}) without parsing
 * the string back.
 */
export class UlidSource {
  readonly #random: () => number;
  #lastTime = -1;
  #prefix = '';
  readonly #chars = new Uint8Array(12);
  #headString = '';
  /** The head of the id made last. */
  head: UlidHead = { bytes: new Uint8Array(16) };
  /** The last 4 characters of the id made last, 20 bits. */
  low = 0;

  constructor(random: () => number = pooledRandom()) {
    this.#random = random;
  }

  /** The next id at `clock` milliseconds. */
  next(clock: number): string {
    const now = Math.floor(clock);
    // Checked on every call: NaN or a negative time would otherwise pass as a clock that went backwards.
    if (!(now >= 0 && now < 2 ** 48)) throw new RangeError(`ULID time must be milliseconds from 0 to 2^48, got ${clock}`);
    if (now > this.#lastTime) {
      this.#lastTime = now;
      this.#prefix = encodeTimePrefix(now);
      for (let i = 0; i < 12; i++) this.#chars[i] = Math.floor(this.#random() * 32);
      this.low = Math.floor(this.#random() * 0x100000);
      this.#rebuildHead();
    } else if (++this.low === 0x100000) {
      this.low = 0;
      const chars = this.#chars;
      let i = 11;
      while (i >= 0 && chars[i] === 31) chars[i--] = 0;
      if (i < 0) throw new RangeError('ULID random part overflowed within one millisecond');
      chars[i] = (chars[i] as number) + 1;
      this.#rebuildHead();
    }
    // One rope of the cached head and a flat four-character tail.
    return this.#headString + ((PAIRS[this.low >> 10] as string) + PAIRS[this.low & 1023]);
  }

  #rebuildHead(): void {
    let head = this.#prefix;
    for (const d of this.#chars) head += ALPHABET[d];
    this.#headString = head;
    const bytes = new Uint8Array(16);
    packFully(`${head}0000`, bytes, 0);
    this.head = { bytes };
  }
}
