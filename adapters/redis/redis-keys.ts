/**
 * Key names of one Redis spool. Every key of a spool carries the same hash
 * tag, `{<keyPrefix>}`, so that on Redis Cluster they all live in one slot:
 * the Lua scripts and MULTI blocks that touch several of them stay legal.
 */

/** The keys and names one spool uses. */
export interface RedisSpoolKeys {
  /** The stream holding one entry per spooled record. */
  readonly stream: string;
  /** A counter of the payload bytes held by the stream (see `stats().bytes`). */
  readonly bytes: string;
  /** The consumer group every reconciler of this spool reads through. */
  readonly group: string;
  /** The hash tag, `{<keyPrefix>}`. */
  readonly tag: string;
}

/** The consumer group name (one per spool, i.e. per stream). */
export const SPOOL_GROUP = 'spillway-reconcilers';

/** Keys for the spool under `keyPrefix` (several buses share one Redis by using different prefixes). */
export function spoolKeys(keyPrefix: string): RedisSpoolKeys {
  const tag = `{${keyPrefix}}`;
  return { stream: `${tag}:spool`, bytes: `${tag}:spool:bytes`, group: SPOOL_GROUP, tag };
}

/** Characters a key prefix may hold: no braces (they would break the hash tag), no spaces. */
export const KEY_PREFIX_PATTERN = /^[A-Za-z0-9_.:/-]{1,200}$/;

const CRC16_TABLE = buildCrc16Table();

function buildCrc16Table(): Uint16Array {
  const table = new Uint16Array(256);
  for (let i = 0; i < 256; i += 1) {
    let crc = i << 8;
    for (let bit = 0; bit < 8; bit += 1) crc = crc & 0x8000 ? ((crc << 1) ^ 0x1021) & 0xffff : (crc << 1) & 0xffff;
    table[i] = crc;
  }
  return table;
}

/** CRC16-CCITT (XModem), the checksum Redis Cluster hashes keys with. */
export function crc16(bytes: Uint8Array): number {
  let crc = 0;
  for (const byte of bytes) crc = ((crc << 8) & 0xffff) ^ (CRC16_TABLE[((crc >> 8) ^ byte) & 0xff] as number);
  return crc;
}

/** The Redis Cluster slot of `key` (honours a `{hash tag}` the way the server does). */
export function keySlot(key: string): number {
  let hashed = key;
  const open = key.indexOf('{');
  if (open >= 0) {
    const close = key.indexOf('}', open + 1);
    if (close > open + 1) hashed = key.slice(open + 1, close);
  }
  return crc16(Buffer.from(hashed, 'utf8')) % 16384;
}

/** Order of two stream ids (`<ms>-<seq>`): negative, zero or positive. */
export function compareStreamIds(a: string, b: string): number {
  const [am = '0', as = '0'] = a.split('-');
  const [bm = '0', bs = '0'] = b.split('-');
  const ms = BigInt(am) - BigInt(bm);
  if (ms !== 0n) return ms < 0n ? -1 : 1;
  const seq = BigInt(as) - BigInt(bs);
  return seq === 0n ? 0 : seq < 0n ? -1 : 1;
}
