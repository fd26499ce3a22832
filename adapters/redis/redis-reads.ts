/**
 * Reads of the consumer group: new entries (`>`), this consumer's own
 * pending entries (after a restart), and entries a dead consumer left
 * pending (XAUTOCLAIM); and the group-less page of a scan (XRANGE). Each returns decoded entries in stream order plus the
 * ids of entries that were deleted while pending (acknowledged elsewhere).
 */
import type { SpoolCipher } from '../../src/contracts/spool.js';
import type { RedisClient } from './redis-connection.js';
import { decodeEntry, type SpoolEntry } from './redis-entries.js';
import type { RedisSpoolKeys } from './redis-keys.js';

/** What one read of the group found. */
export interface GroupRead {
  readonly entries: SpoolEntry[];
  /** Pending ids whose entry no longer exists (already deleted). */
  readonly gone: string[];
  /** Entries that do not decode: left pending, reported by the caller. */
  readonly corrupt: Array<{ id: string; error: Error }>;
  /** The last id seen (for paging through pending entries). */
  readonly lastId?: string;
}

/** Where and how to read. */
export interface ReadContext {
  readonly client: RedisClient;
  readonly keys: RedisSpoolKeys;
  readonly consumer: string;
  /** Spool id, for messages. */
  readonly where: string;
  readonly cipher?: SpoolCipher;
}

type RawEntry = [Buffer, Buffer[] | null];

function decodeAll(raw: readonly RawEntry[], ctx: ReadContext): GroupRead {
  const entries: SpoolEntry[] = [];
  const gone: string[] = [];
  const corrupt: Array<{ id: string; error: Error }> = [];
  let lastId: string | undefined;
  for (const [idBuf, fields] of raw) {
    const id = idBuf.toString('utf8');
    lastId = id;
    if (fields === null || fields.length === 0) {
      gone.push(id);
      continue;
    }
    try {
      entries.push(decodeEntry(id, fields, ctx.where, ctx.cipher));
    } catch (error) {
      corrupt.push({ id, error: error as Error });
    }
  }
  return { entries, gone, corrupt, ...(lastId === undefined ? {} : { lastId }) };
}

/** XREADGROUP from `from` (`>` for never-delivered entries, an id for this consumer's pending ones after it). */
export async function readGroup(ctx: ReadContext, from: string, count: number): Promise<GroupRead> {
  const reply = (await ctx.client.callBuffer('XREADGROUP', 'GROUP', ctx.keys.group, ctx.consumer, 'COUNT', count, 'STREAMS', ctx.keys.stream, from)) as
    | Array<[Buffer, RawEntry[]]>
    | null;
  return decodeAll(reply?.[0]?.[1] ?? [], ctx);
}

/**
 * XRANGE of up to `count` entries after `after` (exclusive, Redis 6.2+), or
 * from the stream's start: every entry still in the stream, leased or not, in
 * stream order. The group is not involved: nothing is leased or claimed.
 */
export async function rangeAfter(ctx: ReadContext, after: string | undefined, count: number): Promise<GroupRead> {
  const reply = (await ctx.client.callBuffer('XRANGE', ctx.keys.stream, after === undefined ? '-' : `(${after}`, '+', 'COUNT', count)) as RawEntry[];
  return decodeAll(reply, ctx);
}

/** XAUTOCLAIM entries idle for `minIdleMs` or more from any consumer to this one; up to `count`. */
export async function autoClaim(ctx: ReadContext, minIdleMs: number, count: number): Promise<GroupRead> {
  const all: RawEntry[] = [];
  const gone: string[] = [];
  let cursor = '0-0';
  for (let round = 0; round < 5 && all.length < count; round += 1) {
    const reply = (await ctx.client.callBuffer('XAUTOCLAIM', ctx.keys.stream, ctx.keys.group, ctx.consumer, minIdleMs, cursor, 'COUNT', count - all.length)) as [
      Buffer,
      RawEntry[],
      Buffer[]?,
    ];
    all.push(...reply[1]);
    gone.push(...(reply[2] ?? []).map((b) => b.toString('utf8')));
    cursor = reply[0].toString('utf8');
    if (cursor === '0-0') break;
  }
  const read = decodeAll(all, ctx);
  return { ...read, gone: [...read.gone, ...gone] };
}
