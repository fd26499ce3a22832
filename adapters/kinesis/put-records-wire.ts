/**
 * The PutRecords wire, written and read here instead of by the SDK's
 * schema-driven serde (put-records-call.ts sends it through the client):
 *
 * - the request body as ASCII JSON bytes (AWS JSON 1.1, data in base64),
 *   instead of the SDK's serializer walking every entry and member;
 * - a 200 answer read in one pass, instead of the SDK's deserializer walking
 *   500 result objects.
 */
import type { PutRecordsResultEntry } from '@aws-sdk/client-kinesis';

/** One PutRecords entry as the wire takes it. */
export interface WireEntry {
  data: Uint8Array;
  partitionKey: string;
  explicitHashKey?: string;
}

/** What a PutRecords call answered: per-entry results, in request order. */
export interface WireResult {
  FailedRecordCount?: number;
  Records?: PutRecordsResultEntry[];
}

/** `s` as a JSON string literal in ASCII only: JSON's escapes, and anything outside printable ASCII as a `\u` escape. */
function escapedJsonString(s: string): string {
  return JSON.stringify(s).replace(/[\u007f-\uffff]/g, (ch) => `\\u${ch.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/** The AWS JSON 1.1 body of PutRecords for `entries`, as bytes. */
export function putRecordsBody(stream: string, entries: readonly WireEntry[]): Buffer {
  return putRecordsBodyOf(
    stream,
    entries,
    (e, body) => body.base64(e.data, 0, e.data.length),
    (e) => e.data.length,
  );
}

/**
 * The body of PutRecords for `items`; `writeData` writes each item's data
 * with `body.base64` (once per item, in order; it may encode the item into a
 * scratch buffer first, as the bytes are copied at once). `dataBytes` says
 * about how many bytes of data an item has (more is fine), so the body is
 * sized once instead of grown.
 */
export function putRecordsBodyOf<T extends { partitionKey: string; explicitHashKey?: string }>(
  stream: string,
  items: readonly T[],
  writeData: (item: T, body: PutRecordsBody) => void,
  dataBytes: (item: T) => number,
): Buffer {
  let capacity = 64 + stream.length;
  for (let i = 0; i < items.length; i++) {
    const e = items[i] as T;
    const n = dataBytes(e);
    // Base64 of the data, the keys (longer if they need escapes: then the body grows), and the entry's JSON.
    capacity += (n > 0 ? Math.ceil(n / 3) * 4 : 0) + e.partitionKey.length + 32 + (e.explicitHashKey === undefined ? 0 : e.explicitHashKey.length + 24);
  }
  // An estimate far over (or not a number) costs no more than a full call's body; the body grows if it needs to.
  const body = new PutRecordsBody(Math.min(capacity, MAX_INITIAL_BODY));
  body.text('{"StreamName":');
  body.jsonString(stream);
  body.text(',"Records":[');
  for (let i = 0; i < items.length; i++) {
    const e = items[i] as T;
    body.bytes(i > 0 ? NEXT_ENTRY_HEAD : ENTRY_HEAD);
    writeData(e, body);
    body.bytes(ENTRY_KEY);
    body.jsonString(e.partitionKey);
    if (e.explicitHashKey !== undefined) {
      body.bytes(ENTRY_HASH_KEY);
      body.jsonString(e.explicitHashKey);
    }
    body.byte(0x7d);
  }
  body.text(']}');
  return body.done();
}

/** A full PutRecords call: 5 MiB of data and keys, a third more as base64, and the JSON around 500 entries. */
const MAX_INITIAL_BODY = 8 * 1_048_576;
const ENTRY_HEAD = Buffer.from('{"Data":"', 'latin1');
const NEXT_ENTRY_HEAD = Buffer.from(',{"Data":"', 'latin1');
const ENTRY_KEY = Buffer.from('","PartitionKey":', 'latin1');
const ENTRY_HASH_KEY = Buffer.from(',"ExplicitHashKey":', 'latin1');
const BASE64_DIGITS = Buffer.from('ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/', 'latin1');
/** Data up to this many bytes is turned into base64 here; longer data by Node's encoder (faster per byte, dearer per call). */
const BASE64_IN_JS = 256;

/**
 * A request body written as ASCII bytes into one growing buffer: every piece
 * is copied straight in (no long string is built and converted at the end,
 * which for 1 KiB records cost more than the rest of the body together), and
 * the signer hashes and the socket writes the bytes as they are.
 */
export class PutRecordsBody {
  #buffer: Buffer;
  #at = 0;

  constructor(capacity: number) {
    this.#buffer = Buffer.allocUnsafe(capacity);
  }

  /** The buffer, with room for `n` more bytes. */
  #room(n: number): Buffer {
    if (this.#at + n > this.#buffer.length) {
      const grown = Buffer.allocUnsafe(Math.max(this.#buffer.length * 2, this.#at + n));
      this.#buffer.copy(grown, 0, 0, this.#at);
      this.#buffer = grown;
    }
    return this.#buffer;
  }

  byte(c: number): void {
    this.#room(1)[this.#at++] = c;
  }

  /** Bytes that are already ASCII. */
  bytes(b: Uint8Array): void {
    this.#room(b.length).set(b, this.#at);
    this.#at += b.length;
  }

  /** Text known to be ASCII. */
  text(s: string): void {
    this.#at += this.#room(s.length).write(s, this.#at, 'latin1');
  }

  /** `s` as a JSON string literal in ASCII; plain strings (the common case) are copied a character at a time. */
  jsonString(s: string): void {
    const out = this.#room(s.length + 2);
    let o = this.#at;
    out[o++] = 0x22;
    for (let i = 0; i < s.length; i++) {
      const c = s.charCodeAt(i);
      if (c < 0x20 || c === 0x22 || c === 0x5c || c > 0x7e) {
        this.text(escapedJsonString(s));
        return;
      }
      out[o++] = c;
    }
    out[o++] = 0x22;
    this.#at = o;
  }

  /** `src[start, end)` in base64 (no quotes). */
  base64(src: Uint8Array, start: number, end: number): void {
    const n = end - start;
    if (n > BASE64_IN_JS) {
      this.text(asBuffer(src).toString('base64', start, end));
      return;
    }
    const out = this.#room(Math.ceil(n / 3) * 4);
    const digits = BASE64_DIGITS;
    const rest = n % 3;
    const whole = end - rest;
    let o = this.#at;
    for (let j = start; j < whole; j += 3) {
      const a = src[j] as number;
      const b = src[j + 1] as number;
      const c = src[j + 2] as number;
      out[o] = digits[a >> 2] as number;
      out[o + 1] = digits[((a & 0x03) << 4) | (b >> 4)] as number;
      out[o + 2] = digits[((b & 0x0f) << 2) | (c >> 6)] as number;
      out[o + 3] = digits[c & 0x3f] as number;
      o += 4;
    }
    if (rest === 2) {
      const a = src[whole] as number;
      const b = src[whole + 1] as number;
      out[o] = digits[a >> 2] as number;
      out[o + 1] = digits[((a & 0x03) << 4) | (b >> 4)] as number;
      out[o + 2] = digits[(b & 0x0f) << 2] as number;
      out[o + 3] = 0x3d;
      o += 4;
    } else if (rest === 1) {
      const a = src[whole] as number;
      out[o] = digits[a >> 2] as number;
      out[o + 1] = digits[(a & 0x03) << 4] as number;
      out[o + 2] = 0x3d;
      out[o + 3] = 0x3d;
      o += 4;
    }
    this.#at = o;
  }

  /** The body written: a view, or a copy when the buffer grew well past it (it is held until the call ends). */
  done(): Buffer {
    const slack = this.#buffer.length - this.#at;
    if (slack > 65_536 && slack * 4 > this.#at) return Buffer.from(this.#buffer.subarray(0, this.#at));
    return this.#buffer.subarray(0, this.#at);
  }
}

/**
 * A PutRecords answer as `JSON.parse` would read it. The answer of every
 * Kinesis endpoint is compact JSON whose result entries hold only strings, so
 * it is read here in one pass without building a parse tree; anything else
 * (whitespace, escapes, a value of another type, a key seen twice) is left to
 * `JSON.parse`, so for any valid answer the result is what `JSON.parse` gives
 * (a raw control character inside a string, which `JSON.parse` refuses, is
 * kept as it is).
 */
export function parsePutRecordsAnswer(text: string): WireResult {
  return (text.indexOf('\\') < 0 ? scanAnswer(text) : undefined) ?? (JSON.parse(text) as WireResult);
}

const QUOTE = 0x22;
const COMMA = 0x2c;

/** The compact form `{"k":v,...}` with string or integer values and a `Records` array of string-valued objects; undefined otherwise. */
function scanAnswer(text: string): WireResult | undefined {
  if (text.charCodeAt(0) !== 0x7b || text.charCodeAt(text.length - 1) !== 0x7d) return undefined;
  const out: Record<string, unknown> = {};
  let at = 1;
  if (text.charCodeAt(at) === 0x7d) return at + 1 === text.length ? (out as WireResult) : undefined;
  for (;;) {
    if (text.charCodeAt(at) !== QUOTE) return undefined;
    const keyEnd = text.indexOf('"', at + 1);
    if (keyEnd < 0 || text.charCodeAt(keyEnd + 1) !== 0x3a) return undefined;
    const key = text.slice(at + 1, keyEnd);
    if (Object.hasOwn(out, key) || key === '__proto__') return undefined;
    at = keyEnd + 2;
    const c = text.charCodeAt(at);
    if (c === QUOTE) {
      const end = text.indexOf('"', at + 1);
      if (end < 0) return undefined;
      out[key] = text.slice(at + 1, end);
      at = end + 1;
    } else if (c >= 0x30 && c <= 0x39) {
      let end = at + 1;
      while (end < text.length && text.charCodeAt(end) >= 0x30 && text.charCodeAt(end) <= 0x39) end++;
      if (end - at > 15 || (c === 0x30 && end - at > 1)) return undefined;
      out[key] = Number(text.slice(at, end));
      at = end;
    } else if (c === 0x5b && key === 'Records') {
      const records: Array<PutRecordsResultEntry | Record<string, string>> = [];
      at++;
      if (text.charCodeAt(at) === 0x5d) at++;
      else {
        for (;;) {
          const entry = scanSuccess(text, at) ?? scanEntry(text, at);
          if (!entry) return undefined;
          records.push(entry);
          at = scanned;
          const d = text.charCodeAt(at++);
          if (d === 0x5d) break;
          if (d !== COMMA) return undefined;
        }
      }
      out[key] = records;
    } else return undefined;
    const d = text.charCodeAt(at++);
    if (d === 0x7d) return at === text.length ? (out as WireResult) : undefined;
    if (d !== COMMA) return undefined;
  }
}

/** Where the last {@link scanSuccess} or {@link scanEntry} stopped: the index after the object it read. */
let scanned = 0;

const SUCCESS_HEAD = '{"SequenceNumber":"';
const SUCCESS_MIDDLE = '","ShardId":"';
/** The shard id read last: consecutive entries of one shard share one string. */
let lastShardId = '';

/**
 * The common entry, `{"SequenceNumber":"…","ShardId":"…"}` with no escapes, as
 * an object of that one shape; undefined for anything else (left to
 * {@link scanEntry}). Sets {@link scanned}.
 */
function scanSuccess(text: string, at: number): PutRecordsResultEntry | undefined {
  if (!text.startsWith(SUCCESS_HEAD, at)) return undefined;
  const sequenceStart = at + SUCCESS_HEAD.length;
  const sequenceEnd = text.indexOf('"', sequenceStart);
  if (sequenceEnd < 0 || !text.startsWith(SUCCESS_MIDDLE, sequenceEnd)) return undefined;
  const shardStart = sequenceEnd + SUCCESS_MIDDLE.length;
  const shardEnd = text.indexOf('"', shardStart);
  if (shardEnd < 0 || text.charCodeAt(shardEnd + 1) !== 0x7d) return undefined;
  const sameShard = shardEnd - shardStart === lastShardId.length && text.startsWith(lastShardId, shardStart);
  const shardId = sameShard ? lastShardId : (lastShardId = text.slice(shardStart, shardEnd));
  scanned = shardEnd + 2;
  return { SequenceNumber: text.slice(sequenceStart, sequenceEnd), ShardId: shardId };
}

/** One `{"k":"v",...}` object starting at `at` (strings only, no escapes); sets {@link scanned} to the index after it. */
function scanEntry(text: string, at: number): Record<string, string> | undefined {
  if (text.charCodeAt(at) !== 0x7b) return undefined;
  const value: Record<string, string> = {};
  at++;
  if (text.charCodeAt(at) === 0x7d) {
    scanned = at + 1;
    return value;
  }
  for (;;) {
    if (text.charCodeAt(at) !== QUOTE) return undefined;
    const keyEnd = text.indexOf('"', at + 1);
    if (keyEnd < 0 || text.charCodeAt(keyEnd + 1) !== 0x3a || text.charCodeAt(keyEnd + 2) !== QUOTE) return undefined;
    const key = text.slice(at + 1, keyEnd);
    const end = text.indexOf('"', keyEnd + 3);
    if (end < 0 || Object.hasOwn(value, key) || key === '__proto__') return undefined;
    value[key] = text.slice(keyEnd + 3, end);
    at = end + 1;
    const d = text.charCodeAt(at++);
    if (d === 0x7d) {
      scanned = at;
      return value;
    }
    if (d !== COMMA) return undefined;
  }
}

/** A view of `bytes` as a Buffer (no copy); handlers other than Node's yield plain Uint8Arrays. */
export function asBuffer(bytes: Uint8Array): Buffer {
  return Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}
