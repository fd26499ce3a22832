/**
 * KPL-compatible record aggregation: many small user records packed into one
 * Kinesis record, in the format the Kinesis Producer Library writes and the
 * Kinesis Client Library and `aws-kinesis-agg` de-aggregate:
 *
 *   magic F3 89 9A C2 · protobuf AggregatedRecord · MD5 of the protobuf (16 bytes)
 *
 *   message AggregatedRecord { repeated string partition_key_table = 1; repeated string explicit_hash_key_table = 2; repeated Record records = 3; }
 *   message Record { required uint64 partition_key_index = 1; optional uint64 explicit_hash_key_index = 2; required bytes data = 3; repeated Tag tags = 4; }
 *
 * spillway puts one envelope in each user record's `data`, so ids, dedupe and
 * coalescing work on de-aggregated records exactly as on plain ones.
 */
import { createHash } from 'node:crypto';
import { MalformedEnvelopeError } from '../../src/errors/index.js';
import { varintLength, writeVarint } from '../../src/envelope/varint.js';

/** The four bytes an aggregated record starts with. */
export const KPL_MAGIC = Buffer.from([0xf3, 0x89, 0x9a, 0xc2]);
const DIGEST_BYTES = 16;

/** One user record inside an aggregate. */
export interface UserRecord {
  partitionKey: string;
  data: Uint8Array;
}

/** Bytes one user record adds to an aggregate whose key table already holds its key (`keyIndex`). */
function recordFieldLength(keyIndex: number, dataLength: number): number {
  const inner = 1 + varintLength(keyIndex) + 1 + varintLength(dataLength) + dataLength;
  return 1 + varintLength(inner) + inner;
}

/** Bytes a new partition key adds to the key table. */
function keyFieldLength(keyBytes: number): number {
  return 1 + varintLength(keyBytes) + keyBytes;
}

/**
 * Packs user records into aggregates up to `maxBytes` each (magic, protobuf
 * and digest included). Records keep their order inside an aggregate.
 */
export class Aggregator {
  readonly #maxBytes: number;
  #keys = new Map<string, number>();
  #keyBytes: Buffer[] = [];
  #records: Array<{ keyIndex: number; data: Uint8Array }> = [];
  #size = KPL_MAGIC.length + DIGEST_BYTES;

  constructor(maxBytes: number) {
    this.#maxBytes = maxBytes;
  }

  /** Records held so far. */
  get count(): number {
    return this.#records.length;
  }

  /** The size the aggregate would have with `record` added. */
  sizeWith(record: UserRecord): number {
    const known = this.#keys.get(record.partitionKey);
    const keyIndex = known ?? this.#keys.size;
    const keyCost = known === undefined ? keyFieldLength(Buffer.byteLength(record.partitionKey)) : 0;
    return this.#size + keyCost + recordFieldLength(keyIndex, record.data.length);
  }

  /** Add `record` if it fits (an empty aggregate takes any record); false when it does not. */
  add(record: UserRecord): boolean {
    const size = this.sizeWith(record);
    if (this.#records.length > 0 && size > this.#maxBytes) return false;
    let keyIndex = this.#keys.get(record.partitionKey);
    if (keyIndex === undefined) {
      keyIndex = this.#keys.size;
      this.#keys.set(record.partitionKey, keyIndex);
      this.#keyBytes.push(Buffer.from(record.partitionKey, 'utf8'));
    }
    this.#records.push({ keyIndex, data: record.data });
    this.#size = size;
    return true;
  }

  /** The aggregated record's bytes; the aggregator is empty afterwards. */
  finish(): Uint8Array {
    const out = Buffer.allocUnsafe(this.#size);
    KPL_MAGIC.copy(out, 0);
    let o = KPL_MAGIC.length;
    for (const key of this.#keyBytes) {
      out[o++] = (1 << 3) | 2;
      o = writeVarint(out, o, key.length);
      o += key.copy(out, o);
    }
    for (const r of this.#records) {
      const inner = 1 + varintLength(r.keyIndex) + 1 + varintLength(r.data.length) + r.data.length;
      out[o++] = (3 << 3) | 2;
      o = writeVarint(out, o, inner);
      out[o++] = (1 << 3) | 0;
      o = writeVarint(out, o, r.keyIndex);
      out[o++] = (3 << 3) | 2;
      o = writeVarint(out, o, r.data.length);
      out.set(r.data, o);
      o += r.data.length;
    }
    createHash('md5').update(out.subarray(KPL_MAGIC.length, o)).digest().copy(out, o);
    this.#keys = new Map();
    this.#keyBytes = [];
    this.#records = [];
    this.#size = KPL_MAGIC.length + DIGEST_BYTES;
    return out;
  }
}

/** Pack `records` into one aggregated record (all of them, whatever the size). */
export function aggregate(records: readonly UserRecord[]): Uint8Array {
  const agg = new Aggregator(Number.POSITIVE_INFINITY);
  for (const r of records) agg.add(r);
  return agg.finish();
}

/** True when `data` is a KPL aggregate: the magic, and room for a digest. */
export function isAggregated(data: Uint8Array): boolean {
  return data.length >= KPL_MAGIC.length + DIGEST_BYTES && data[0] === 0xf3 && data[1] === 0x89 && data[2] === 0x9a && data[3] === 0xc2;
}

/** A protobuf reader over one message's bytes. */
class Proto {
  offset: number;
  constructor(
    readonly buf: Buffer,
    start: number,
    readonly end: number,
  ) {
    this.offset = start;
  }

  varint(): number {
    let value = 0;
    let scale = 1;
    for (let i = 0; i < 10 && this.offset < this.end; i++) {
      const b = this.buf[this.offset++] as number;
      value += (b & 0x7f) * scale;
      if (b < 0x80) return value;
      scale *= 128;
    }
    throw new MalformedEnvelopeError('KPL aggregate has a truncated or overlong varint');
  }

  /** Skip a field of `wireType`, or take a length-delimited one: returns [start, end]. */
  field(wireType: number): [number, number] {
    if (wireType === 0) {
      this.varint();
      return [this.offset, this.offset];
    }
    if (wireType === 2) {
      const n = this.varint();
      const start = this.offset;
      this.offset += n;
      if (this.offset > this.end) throw new MalformedEnvelopeError('KPL aggregate has a field longer than the record');
      return [start, this.offset];
    }
    if (wireType === 1 || wireType === 5) {
      this.offset += wireType === 1 ? 8 : 4;
      return [this.offset, this.offset];
    }
    throw new MalformedEnvelopeError(`KPL aggregate uses protobuf wire type ${wireType}, which the format does not have`);
  }
}

function readUserRecord(buf: Buffer, start: number, end: number, keys: readonly string[]): UserRecord {
  const p = new Proto(buf, start, end);
  let keyIndex: number | undefined;
  let data: Uint8Array | undefined;
  while (p.offset < end) {
    const tag = p.varint();
    if (tag === ((1 << 3) | 0)) keyIndex = p.varint();
    else if (tag === ((3 << 3) | 2)) {
      const [s, e] = p.field(2);
      data = buf.subarray(s, e);
    } else p.field(tag & 7);
  }
  if (keyIndex === undefined || data === undefined) throw new MalformedEnvelopeError('KPL aggregate holds a record without partition_key_index or data');
  const partitionKey = keys[keyIndex];
  if (partitionKey === undefined) throw new MalformedEnvelopeError(`KPL aggregate record points at partition key ${keyIndex}, past the table's ${keys.length}`);
  return { partitionKey, data };
}

/**
 * The user records of one Kinesis record, by the reference rules: a record
 * that is not an aggregate (no magic), or whose MD5 does not match, is one
 * user record as it is (the KCL does the same: such bytes are a plain record
 * that happens to start with the magic). A matching digest over a protobuf
 * that does not parse throws {@link MalformedEnvelopeError}.
 */
export function deaggregate(data: Uint8Array, partitionKey: string): UserRecord[] {
  if (!isAggregated(data)) return [{ partitionKey, data }];
  const buf = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  const end = buf.length - DIGEST_BYTES;
  const digest = createHash('md5').update(buf.subarray(KPL_MAGIC.length, end)).digest();
  if (!digest.equals(buf.subarray(end))) return [{ partitionKey, data }];
  const p = new Proto(buf, KPL_MAGIC.length, end);
  const keys: string[] = [];
  const spans: Array<[number, number]> = [];
  while (p.offset < end) {
    const tag = p.varint();
    const wireType = tag & 7;
    const [s, e] = p.field(wireType);
    if (tag === ((1 << 3) | 2)) keys.push(buf.toString('utf8', s, e));
    else if (tag === ((3 << 3) | 2)) spans.push([s, e]);
  }
  return spans.map(([s, e]) => readUserRecord(buf, s, e, keys));
}

/** A stream's open shards by hash range, to pack only records of one shard together. */
export class ShardRanges {
  readonly #starts: bigint[];
  /** The starting hash key of each open shard, ascending (an aggregate's ExplicitHashKey). */
  readonly startKeys: string[];

  constructor(shards: ReadonlyArray<{ HashKeyRange?: { StartingHashKey?: string }; SequenceNumberRange?: { EndingSequenceNumber?: string } }>) {
    const open = shards
      .filter((s) => s.SequenceNumberRange?.EndingSequenceNumber === undefined && s.HashKeyRange?.StartingHashKey !== undefined)
      .map((s) => BigInt(s.HashKeyRange?.StartingHashKey as string))
      .sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
    this.#starts = open.length > 0 ? open : [0n];
    this.startKeys = this.#starts.map((b) => b.toString());
  }

  /** Shards of keys seen lately: keys repeat, and an MD5 and a 128-bit parse per record is most of the packing cost. */
  #cache = new Map<string, number>();

  /** Index of the shard a partition key maps to (Kinesis: MD5 of the key as a 128-bit integer). */
  shardOf(partitionKey: string): number {
    if (this.#starts.length === 1) return 0;
    const known = this.#cache.get(partitionKey);
    if (known !== undefined) return known;
    const shard = this.#shardOf(partitionKey);
    if (this.#cache.size >= 65_536) this.#cache = new Map();
    this.#cache.set(partitionKey, shard);
    return shard;
  }

  #shardOf(partitionKey: string): number {
    const hash = BigInt(`0x${createHash('md5').update(partitionKey, 'utf8').digest('hex')}`);
    let lo = 0;
    let hi = this.#starts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if ((this.#starts[mid] as bigint) <= hash) lo = mid;
      else hi = mid - 1;
    }
    return lo;
  }
}

/** Aggregated PutRecords entries, with the items each one carries. */
export interface AggregatedEntries<T> {
  entries: Array<{ data: Uint8Array; partitionKey: string; explicitHashKey?: string }>;
  members: T[][];
}

/**
 * Pack `items` (in order) into aggregates of at most `maxBytes`, one shard per
 * aggregate, so every record lands on the shard its own key maps to and
 * per-key order holds. A record too big to share an aggregate goes as a
 * plain record (de-aggregation passes those through).
 */
export function aggregateByShard<T>(items: readonly T[], record: (item: T) => UserRecord, shards: ShardRanges, maxBytes: number): AggregatedEntries<T> {
  const out: AggregatedEntries<T> = { entries: [], members: [] };
  const open = new Map<number, { agg: Aggregator; items: T[]; key: string }>();
  const close = (shard: number): void => {
    const o = open.get(shard);
    if (!o) return;
    out.entries.push({ data: o.agg.finish(), partitionKey: o.key, explicitHashKey: shards.startKeys[shard] as string });
    out.members.push(o.items);
    open.delete(shard);
  };
  for (const item of items) {
    const r = record(item);
    const shard = shards.shardOf(r.partitionKey);
    if (r.data.length + 64 > maxBytes) {
      close(shard);
      out.entries.push({ data: r.data, partitionKey: r.partitionKey });
      out.members.push([item]);
      continue;
    }
    let o = open.get(shard);
    if (o && !o.agg.add(r)) {
      close(shard);
      o = undefined;
    }
    if (!o) {
      o = { agg: new Aggregator(maxBytes), items: [], key: r.partitionKey };
      o.agg.add(r);
      open.set(shard, o);
    }
    o.items.push(item);
  }
  for (const shard of [...open.keys()]) close(shard);
  return out;
}
