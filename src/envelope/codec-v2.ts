/**
 * Wire format v2 (see docs/wire-format.md): a binary header of 28-35 bytes
 * for a record sent to Kinesis, where the partition key travels beside the
 * data and is not repeated.
 *
 *   0..2   magic "SPW" (0x53 0x50 0x57)      3   version 0x02
 *   4      flags: bit 0 snapshot · bits 1-2 content type (0 octet-stream,
 *          1 json, 2 text) · bit 3 partition key inside · bit 4 coalesce key
 *          inside · bit 5 id as a string · bit 6 wide times · bit 7 extensions
 *   5..    id: 16 bytes (a ULID's 128 bits), or with bit 5 varint length + UTF-8
 *   ..     times: sentTime uint48 big-endian + eventTime − sentTime as a zigzag
 *          varint, or with bit 6 both as float64 big-endian (sent, then event)
 *   ..     with bit 3: partition key, varint length + UTF-8
 *   ..     with bit 4: coalesce key, varint length + UTF-8 (absent: a snapshot's
 *          coalesce key is its partition key)
 *   ..     with bit 7: extensions, varint count, then per field a tag byte and
 *          varint length + UTF-8 (1 explicit hash key, 2 producer instance id;
 *          unknown tags are skipped, so later fields do not break readers)
 *   ..     payload, exactly as the producer gave it
 */
import { MalformedEnvelopeError } from '../errors/index.js';
import type { ContentType, Envelope } from './types.js';
import { isPackableUlid, packUlid, type UlidHead, unpackUlid, writeUlidBytes } from './ulid-bytes.js';
import { varintLength, writeVarint } from './varint.js';

const FLAG_SNAPSHOT = 0x01;
const FLAG_KEY = 0x08;
const FLAG_COALESCE = 0x10;
const FLAG_STRING_ID = 0x20;
const FLAG_WIDE_TIMES = 0x40;
const FLAG_EXT = 0x80;
const TAG_HASH_KEY = 1;
const TAG_PRODUCER = 2;
const CONTENT_TYPES: readonly ContentType[] = ['application/octet-stream', 'application/json', 'text/plain'];
const MAX_UINT48 = 2 ** 48;
const MAX_DELTA = 2 ** 51;

/** UTF-8 length of `s`; short ASCII strings (most keys and ids) are counted in JS, without a call into C++. */
export function utf8Length(s: string): number {
  if (s.length > 64) return Buffer.byteLength(s, 'utf8');
  for (let i = 0; i < s.length; i++) if (s.charCodeAt(i) >= 0x80) return Buffer.byteLength(s, 'utf8');
  return s.length;
}

function contentCode(type: ContentType): number {
  return type === 'application/json' ? 1 : type === 'text/plain' ? 2 : 0;
}

function compactTimes(e: Envelope): boolean {
  const delta = e.eventTime - e.sentTime;
  // -0 is a safe integer too, but the integer form would give back +0.
  return (
    Number.isSafeInteger(e.sentTime) && e.sentTime >= 0 && e.sentTime < MAX_UINT48 && Number.isSafeInteger(e.eventTime) && Math.abs(delta) < MAX_DELTA && !Object.is(e.sentTime, -0) && !Object.is(e.eventTime, -0)
  );
}

const zigzag = (d: number): number => (d >= 0 ? d * 2 : -d * 2 - 1);
const unzigzag = (z: number): number => (z % 2 === 0 ? z / 2 : -(z + 1) / 2);

function carriesCoalesceKey(e: Envelope): boolean {
  return e.coalesceKey !== undefined && !(e.kind === 'snapshot' && e.coalesceKey === e.partitionKey);
}

interface Layout {
  flags: number;
  idBytes: number;
  keyBytes: number;
  coalesceBytes: number;
  delta: number;
  headerLength: number;
  ext: ReadonlyArray<[number, string]>;
}

/** The optional fields a record carries as extensions. */
const NO_EXTENSIONS: ReadonlyArray<[number, string]> = [];

function extensions(e: Envelope, withProducer: boolean): ReadonlyArray<[number, string]> {
  if (e.explicitHashKey === undefined && (!withProducer || e.producer === undefined)) return NO_EXTENSIONS;
  const ext: Array<[number, string]> = [];
  if (e.explicitHashKey !== undefined) ext.push([TAG_HASH_KEY, e.explicitHashKey]);
  if (withProducer && e.producer !== undefined) ext.push([TAG_PRODUCER, e.producer]);
  return ext;
}

/** One extension field's bytes: tag, varint length, UTF-8 value. */
function fieldBytes(value: string): number {
  const len = utf8Length(value);
  return 1 + varintLength(len) + len;
}

/** Bytes of the {@link extensions} a record carries (a count of at most 2, then the fields), without building them. */
function extensionSize(e: Envelope, withProducer: boolean): number {
  const hashKey = e.explicitHashKey !== undefined;
  const producer = withProducer && e.producer !== undefined;
  if (!hashKey && !producer) return 0;
  return 1 + (hashKey ? fieldBytes(e.explicitHashKey as string) : 0) + (producer ? fieldBytes(e.producer as string) : 0);
}

/** The extension bytes of a record whose only extension is the producer id `producer` (none when undefined). */
export function producerExtensionSize(producer: string | undefined): number {
  return producer === undefined ? 0 : 1 + fieldBytes(producer);
}

/**
 * An envelope the stamper made, of the common shape (a delta without an
 * explicit hash key). Beside the fields it carries, in private fields (not
 * copied by a spread, not seen by equality checks or `JSON.stringify`), the
 * size of its self-contained encoding and the UTF-8 length of its partition
 * key, which the send path asks for several times per record; envelopes are
 * immutable, so they never go stale. Its id is one of the stamper's ULIDs,
 * so it always packs to 16 bytes.
 */
export class StampedEnvelope implements Envelope {
  declare readonly id: string;
  declare readonly partitionKey: string;
  declare readonly kind: 'delta';
  declare readonly eventTime: number;
  declare readonly sentTime: number;
  declare readonly contentType: ContentType;
  declare readonly producer?: string;
  declare readonly data: Uint8Array;
  #encodedSize = -1;
  #keyBytes = -1;
  /** The id's 16 bytes, as its source described them (see UlidSource), so they are written without parsing the id. */
  readonly #idHead: UlidHead | undefined;
  readonly #idLow: number;

  constructor(
    id: string,
    partitionKey: string,
    eventTime: number,
    sentTime: number,
    contentType: ContentType,
    producer: string | undefined,
    data: Uint8Array,
    idBytes?: { head: UlidHead; low: number },
  ) {
    this.#idHead = idBytes?.head;
    this.#idLow = idBytes?.low ?? 0;
    this.id = id;
    this.partitionKey = partitionKey;
    this.kind = 'delta';
    this.eventTime = eventTime;
    this.sentTime = sentTime;
    this.contentType = contentType;
    if (producer !== undefined) this.producer = producer;
    this.data = data;
  }

  /** Remember the size of the self-contained encoding and the key's UTF-8 length (done once, by the stamper). */
  static remember(e: StampedEnvelope, encodedSize: number, keyBytes: number): void {
    e.#encodedSize = encodedSize;
    e.#keyBytes = keyBytes;
  }

  /** True for an envelope the stamper made (by its private fields, not its prototype: a copy is not one). */
  static is(e: Envelope): e is StampedEnvelope {
    return #encodedSize in e;
  }

  /** The remembered size, if `e` is a stamped envelope that has one. */
  static sizeOf(e: Envelope): number | undefined {
    return #encodedSize in e && e.#encodedSize >= 0 ? e.#encodedSize : undefined;
  }

  /** Write the 16 bytes of a packable id into `out` at `offset`: from its source for a stamped envelope, else packed from the id. */
  static writeId(e: Envelope, out: Uint8Array, offset: number): void {
    if (#idHead in e && e.#idHead) writeUlidBytes(e.#idHead, e.#idLow, out, offset);
    else packUlid(e.id, out, offset);
  }

  /** The partition key's UTF-8 length. */
  static keyBytesOf(e: Envelope): number {
    return #keyBytes in e && e.#keyBytes >= 0 ? e.#keyBytes : utf8Length(e.partitionKey);
  }
}

/** The remembered self-contained size, if the envelope was stamped here. */
export function rememberedSize(e: Envelope): number | undefined {
  return StampedEnvelope.sizeOf(e);
}

/** UTF-8 length of the envelope's partition key (remembered on a stamped envelope). */
export function keyBytesOf(e: Envelope): number {
  return StampedEnvelope.keyBytesOf(e);
}

function packable(e: Envelope): boolean {
  return StampedEnvelope.is(e) || isPackableUlid(e.id);
}

function layout(e: Envelope, withKey: boolean, withProducer: boolean): Layout {
  const packed = packable(e);
  const compact = compactTimes(e);
  const coalesce = carriesCoalesceKey(e);
  const idBytes = packed ? 16 : utf8Length(e.id);
  const keyBytes = withKey ? utf8Length(e.partitionKey) : 0;
  const coalesceBytes = coalesce ? utf8Length(e.coalesceKey as string) : 0;
  const delta = compact ? zigzag(e.eventTime - e.sentTime) : 0;
  let headerLength = 5 + (packed ? 16 : varintLength(idBytes) + idBytes) + (compact ? 6 + varintLength(delta) : 16);
  if (withKey) headerLength += varintLength(keyBytes) + keyBytes;
  if (coalesce) headerLength += varintLength(coalesceBytes) + coalesceBytes;
  const ext = extensions(e, withProducer);
  headerLength += extensionSize(e, withProducer);
  const flags =
    (ext.length > 0 ? FLAG_EXT : 0) |
    (e.kind === 'snapshot' ? FLAG_SNAPSHOT : 0) |
    (contentCode(e.contentType) << 1) |
    (withKey ? FLAG_KEY : 0) |
    (coalesce ? FLAG_COALESCE : 0) |
    (packed ? 0 : FLAG_STRING_ID) |
    (compact ? 0 : FLAG_WIDE_TIMES);
  return { flags, idBytes, keyBytes, coalesceBytes, delta, headerLength, ext };
}

/** Size of the v2 encoding, computed without encoding. */
export function v2Size(e: Envelope, withKey: boolean, withProducer = true): number {
  return v2SizeOf(e, withKey, withProducer, packable(e));
}

/** {@link v2Size} when it is known whether the id packs to 16 bytes. */
export function v2SizeOf(e: Envelope, withKey: boolean, withProducer: boolean, packed: boolean): number {
  // The same arithmetic as layout(), without building it.
  let n = 5 + e.data.length;
  if (packed) n += 16;
  else {
    const idBytes = utf8Length(e.id);
    n += varintLength(idBytes) + idBytes;
  }
  n += compactTimes(e) ? 6 + varintLength(zigzag(e.eventTime - e.sentTime)) : 16;
  if (withKey) {
    const keyBytes = utf8Length(e.partitionKey);
    n += varintLength(keyBytes) + keyBytes;
  }
  if (carriesCoalesceKey(e)) {
    const coalesceBytes = utf8Length(e.coalesceKey as string);
    n += varintLength(coalesceBytes) + coalesceBytes;
  }
  n += extensionSize(e, withProducer);
  return n;
}

/** A stamped record's header before its time delta: magic, version and flags (5), the id (16), the sent time (6). */
const STAMPED_FIXED_HEADER = 27;

/**
 * {@link v2SizeOf}`(e, false, true, true)` of a stamped envelope, the size the
 * stamper asks for once per record: a delta with no explicit hash key, whose
 * header is fixed but for the time delta and the producer id, whose extension
 * size the stamper knows ({@link producerExtensionSize} of `e.producer`).
 */
export function stampedSizeWithoutKey(e: StampedEnvelope, producerBytes: number): number {
  if (!compactTimes(e)) return v2SizeOf(e, false, true, true);
  return STAMPED_FIXED_HEADER + varintLength(zigzag(e.eventTime - e.sentTime)) + e.data.length + producerBytes;
}

/**
 * Encode as v2; `withKey` puts the partition key inside (for carriers that do
 * not keep it beside the data); `withProducer` keeps the producer id (only
 * fallbacks shared by several producers need it).
 */
export function encodeV2(e: Envelope, withKey: boolean, withProducer = true): Uint8Array {
  const l = layout(e, withKey, withProducer);
  const out = Buffer.allocUnsafe(l.headerLength + e.data.length);
  writeV2(e, l, withKey, out);
  return out;
}

/**
 * Encode as v2 into `scratch.buffer` from offset 0, replacing it with a bigger
 * buffer when it is too small; returns the length written. For callers that
 * copy the bytes on at once (into a request body as base64), so no buffer and
 * no result object is allocated per record.
 */
export function encodeV2Into(e: Envelope, withKey: boolean, withProducer: boolean, scratch: { buffer: Buffer }): number {
  if (StampedEnvelope.is(e) && (!withProducer || e.producer === undefined) && compactTimes(e)) return encodeStampedInto(e, withKey, scratch);
  const l = layout(e, withKey, withProducer);
  const length = l.headerLength + e.data.length;
  writeV2(e, l, withKey, room(scratch, length));
  return length;
}

/**
 * {@link encodeV2Into} for the send path's common case, a stamped delta with
 * compact times and no extensions, without building a layout first; the
 * bytes are the same as {@link writeV2}'s.
 */
function encodeStampedInto(e: StampedEnvelope, withKey: boolean, scratch: { buffer: Buffer }): number {
  const delta = zigzag(e.eventTime - e.sentTime);
  const keyBytes = withKey ? StampedEnvelope.keyBytesOf(e) : 0;
  const headerLength = STAMPED_FIXED_HEADER + varintLength(delta) + (withKey ? varintLength(keyBytes) + keyBytes : 0);
  const length = headerLength + e.data.length;
  const out = room(scratch, length);
  out[0] = 0x53;
  out[1] = 0x50;
  out[2] = 0x57;
  out[3] = 0x02;
  out[4] = (contentCode(e.contentType) << 1) | (withKey ? FLAG_KEY : 0);
  StampedEnvelope.writeId(e, out, 5);
  let o = out.writeUIntBE(e.sentTime, 21, 6);
  o = writeVarint(out, o, delta);
  if (withKey) {
    o = writeVarint(out, o, keyBytes);
    const key = e.partitionKey;
    if (keyBytes === key.length && keyBytes <= 64) {
      // ASCII (as many bytes as characters): copied here, cheaper than a call into Buffer#write for a short key.
      for (let i = 0; i < keyBytes; i++) out[o + i] = key.charCodeAt(i);
      o += keyBytes;
    } else o += out.write(key, o, 'utf8');
  }
  out.set(e.data, o);
  return length;
}

/** `scratch.buffer`, first replaced by one at least twice as big when it holds fewer than `length` bytes. */
function room(scratch: { buffer: Buffer }, length: number): Buffer {
  if (scratch.buffer.length < length) scratch.buffer = Buffer.allocUnsafe(Math.max(length, scratch.buffer.length * 2));
  return scratch.buffer;
}

/** Write the v2 encoding laid out by `l` at the start of `out`. */
function writeV2(e: Envelope, l: Layout, withKey: boolean, out: Buffer): void {
  out[0] = 0x53;
  out[1] = 0x50;
  out[2] = 0x57;
  out[3] = 0x02;
  out[4] = l.flags;
  let o = 5;
  if (l.flags & FLAG_STRING_ID) {
    o = writeVarint(out, o, l.idBytes);
    o += out.write(e.id, o, 'utf8');
  } else {
    StampedEnvelope.writeId(e, out, o);
    o += 16;
  }
  if (l.flags & FLAG_WIDE_TIMES) {
    o = out.writeDoubleBE(e.sentTime, o);
    o = out.writeDoubleBE(e.eventTime, o);
  } else {
    o = out.writeUIntBE(e.sentTime, o, 6);
    o = writeVarint(out, o, l.delta);
  }
  if (withKey) {
    o = writeVarint(out, o, l.keyBytes);
    o += out.write(e.partitionKey, o, 'utf8');
  }
  if (l.flags & FLAG_COALESCE) {
    o = writeVarint(out, o, l.coalesceBytes);
    o += out.write(e.coalesceKey as string, o, 'utf8');
  }
  if (l.ext.length > 0) {
    o = writeVarint(out, o, l.ext.length);
    for (const [tag, value] of l.ext) {
      out[o++] = tag;
      o = writeVarint(out, o, utf8Length(value));
      o += out.write(value, o, 'utf8');
    }
  }
  out.set(e.data, o);
}

/** A bounds-checked reader over one record's bytes. */
class Reader {
  offset = 5;
  constructor(readonly buf: Buffer) {}

  need(n: number, what: string): void {
    if (this.offset + n > this.buf.length) throw new MalformedEnvelopeError(`v2 envelope is cut short: its ${what} needs ${n} bytes at offset ${this.offset}, but it is ${this.buf.length} bytes long`);
  }

  varint(what: string): number {
    let value = 0;
    let scale = 1;
    for (let i = 0; i < 8; i++) {
      this.need(1, what);
      const b = this.buf[this.offset++] as number;
      value += (b & 0x7f) * scale;
      if (b < 0x80) return value;
      scale *= 128;
    }
    throw new MalformedEnvelopeError(`v2 envelope has an overlong varint for its ${what}`);
  }

  string(what: string): string {
    const n = this.varint(`${what} length`);
    this.need(n, what);
    const s = this.buf.toString('utf8', this.offset, this.offset + n);
    this.offset += n;
    return s;
  }
}

/** Decode v2 bytes (magic and version already checked by the caller). */
export function decodeEnvelopeV2(bytes: Uint8Array, partitionKey: string | undefined): Envelope {
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const r = new Reader(buf);
  r.offset = 4;
  r.need(1, 'flags');
  const flags = buf[4] as number;
  r.offset = 5;
  const code = (flags >> 1) & 0x03;
  if (code === 3) throw new MalformedEnvelopeError(`v2 envelope flags 0x${flags.toString(16)} use bits this spillway does not know; upgrade spillway`);
  let id: string;
  if (flags & FLAG_STRING_ID) id = r.string('id');
  else {
    r.need(16, 'id');
    id = unpackUlid(buf, r.offset);
    r.offset += 16;
  }
  let sentTime: number;
  let eventTime: number;
  if (flags & FLAG_WIDE_TIMES) {
    r.need(16, 'times');
    sentTime = buf.readDoubleBE(r.offset);
    eventTime = buf.readDoubleBE(r.offset + 8);
    r.offset += 16;
  } else {
    r.need(6, 'sentTime');
    sentTime = buf.readUIntBE(r.offset, 6);
    r.offset += 6;
    eventTime = sentTime + unzigzag(r.varint('eventTime'));
  }
  const key = flags & FLAG_KEY ? r.string('partition key') : partitionKey;
  if (key === undefined) {
    throw new MalformedEnvelopeError(
      `record ${id} was written for Kinesis without its partition key inside; decode it with the record's PartitionKey: decodeEnvelope(data, partitionKey)`,
    );
  }
  const kind = flags & FLAG_SNAPSHOT ? 'snapshot' : 'delta';
  const coalesceKey = flags & FLAG_COALESCE ? r.string('coalesce key') : kind === 'snapshot' ? key : undefined;
  let explicitHashKey: string | undefined;
  let producer: string | undefined;
  if (flags & FLAG_EXT) {
    const count = r.varint('extension count');
    for (let i = 0; i < count; i++) {
      r.need(1, 'extension tag');
      const tag = buf[r.offset++] as number;
      const value = r.string('extension');
      if (tag === TAG_HASH_KEY) explicitHashKey = value;
      else if (tag === TAG_PRODUCER) producer = value;
    }
  }
  return {
    id,
    partitionKey: key,
    kind,
    ...(coalesceKey === undefined ? {} : { coalesceKey }),
    eventTime,
    sentTime,
    contentType: CONTENT_TYPES[code] as ContentType,
    ...(explicitHashKey === undefined ? {} : { explicitHashKey }),
    ...(producer === undefined ? {} : { producer }),
    data: new Uint8Array(buf.buffer, buf.byteOffset + r.offset, buf.length - r.offset),
  };
}
