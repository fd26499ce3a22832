/**
 * Reads a secondary Kinesis stream back for the reconciler: one
 * {@link DrainSource} per shard, resuming after the last committed sequence
 * number (kept in a {@link CheckpointStore}), TRIM_HORIZON the first time.
 * Records that are not spillway envelopes are skipped and counted on the chunk,
 * and so are records that look like one and do not decode (a damaged aggregate
 * or envelope): said at warn, never left to hold the shard (and so every
 * source) back. An envelope of a later version (a version byte of 3 to 15,
 * written by a newer spillway) is not skipped: the shard stops there, and the
 * error says to upgrade this reconciler.
 */
import {
  GetRecordsCommand,
  GetShardIteratorCommand,
  type KinesisClient,
  ListShardsCommand,
  type Shard,
} from '@aws-sdk/client-kinesis';
import type { Logger } from 'pino';
import type { CheckpointStore, DrainSource, SourceChunk } from '../../src/contracts/index.js';
import { decodeEnvelope, type Envelope, isEnvelopeBytes } from '../../src/envelope/index.js';
import { TransientError } from '../../src/errors/index.js';
import { classifyAwsError } from '../aws/classify.js';
import { deaggregate } from './aggregation.js';
import { withDeadline } from '../../src/failover/deadline.js';

/** Options for {@link createKinesisDrainSources}. */
export interface KinesisDrainOptions {
  client: KinesisClient;
  region: string;
  stream: string;
  checkpoints: CheckpointStore;
  /** Empty pages to read through while the shard is still behind (default 20). */
  maxEmptyPages?: number;
  /**
   * Drain only this producer's records (and records that name none): on a
   * stream shared by several producers each reconciler drains its own. The
   * others' records are skipped and counted, never replayed by this one.
   */
  producer?: string;
  /**
   * Prefix of this reader's checkpoint keys (default none). An orphan drain
   * reads with its own positions, since the producer's own drain has moved
   * past the records it left to others.
   */
  checkpointPrefix?: string;
  /** Where a record that does not decode is reported (at warn). */
  logger?: Logger;
}

/** Longest a single read call may take before it counts as failed (the source is then unavailable this run). */
const READ_TIMEOUT_MS = 10_000;

/** `send` under the caller's signal and the per-call read timeout, which is dropped when the call ends. */
function bounded<T>(signal: AbortSignal, send: (abortSignal: AbortSignal) => Promise<T>): Promise<T> {
  return withDeadline(signal, READ_TIMEOUT_MS, send);
}

/** One drain source per shard of the stream, parents before children. */
export async function createKinesisDrainSources(options: KinesisDrainOptions): Promise<DrainSource[]> {
  const shards = await listShards(options);
  return shards.map((shard) => createShardSource(options, shard.ShardId as string));
}

/** Every shard of a stream, following ListShards pages; raw SDK errors (callers classify). */
export async function listStreamShards(client: KinesisClient, stream: string, signal?: AbortSignal): Promise<Shard[]> {
  const shards: Shard[] = [];
  let nextToken: string | undefined;
  do {
    const page = await client.send(new ListShardsCommand(nextToken ? { NextToken: nextToken } : { StreamName: stream }), signal ? { abortSignal: signal } : {});
    shards.push(...(page.Shards ?? []));
    nextToken = page.NextToken;
  } while (nextToken);
  return shards;
}

async function listShards(options: Pick<KinesisDrainOptions, 'client' | 'region' | 'stream'>): Promise<Shard[]> {
  try {
    return await withDeadline(undefined, 5_000, (abortSignal) => listStreamShards(options.client, options.stream, abortSignal));
  } catch (error) {
    throw classifyAwsError(error, { target: `kinesis:${options.region}:${options.stream}`, region: options.region, stream: options.stream });
  }
}

function createShardSource(options: KinesisDrainOptions, shardId: string): DrainSource {
  const id = `kinesis:${options.region}:${options.stream}/${shardId}`;
  const checkpointKey = `${options.checkpointPrefix ?? ''}${id}`;
  const context = { target: id, region: options.region, stream: options.stream };
  const maxEmptyPages = options.maxEmptyPages ?? 20;
  let iterator: string | undefined;
  let exhausted = false;

  async function openIterator(signal: AbortSignal): Promise<string | undefined> {
    const after = await options.checkpoints.get(checkpointKey);
    const out = await bounded(signal, (abortSignal) =>
      options.client.send(
        new GetShardIteratorCommand({
          StreamName: options.stream,
          ShardId: shardId,
          ...(after ? { ShardIteratorType: 'AFTER_SEQUENCE_NUMBER', StartingSequenceNumber: after } : { ShardIteratorType: 'TRIM_HORIZON' }),
        }),
        { abortSignal },
      ),
    );
    return out.ShardIterator;
  }

  /** The envelope in one user record, or undefined (counted as foreign) when it is none or does not decode. */
  function envelopeOf(data: Uint8Array, partitionKey: string, sequenceNumber: string | undefined): Envelope | undefined {
    if (!isEnvelopeBytes(data)) return undefined;
    try {
      return decodeEnvelope(data, partitionKey);
    } catch (error) {
      const version = data[3] as number;
      if (version > 2 && version < 16) {
        throw new TransientError(
          `${id}: record ${sequenceNumber ?? '?'} is a spillway envelope of version ${version}, written by a newer spillway, which this one does not read; upgrade spillway on this reconciler to drain the shard`,
          { ...context, cause: error },
        );
      }
      options.logger?.warn({ source: id, sequenceNumber, err: error }, 'A record looks like a spillway envelope but does not decode; it is skipped and counted as foreign.');
      return undefined;
    }
  }

  /** The user records of one Kinesis record: a KPL aggregate holds many, a plain record is one; a damaged aggregate none. */
  function userRecords(r: { Data?: Uint8Array; SequenceNumber?: string; PartitionKey?: string }): ReturnType<typeof deaggregate> | undefined {
    if (!r.Data) return undefined;
    try {
      return deaggregate(r.Data, r.PartitionKey ?? '');
    } catch (error) {
      options.logger?.warn({ source: id, sequenceNumber: r.SequenceNumber, err: error }, 'A KPL aggregate does not unpack; it is skipped and counted as foreign.');
      return undefined;
    }
  }

  function toChunk(records: Array<{ Data?: Uint8Array; SequenceNumber?: string; PartitionKey?: string }>): SourceChunk {
    const envelopes: Envelope[] = [];
    let foreign = 0;
    let otherProducers = 0;
    let end = records.length;
    for (let i = 0; i < records.length; i++) {
      const r = records[i] as (typeof records)[number];
      const users = userRecords(r);
      if (!users) {
        foreign++;
        continue;
      }
      const before = { envelopes: envelopes.length, foreign, otherProducers };
      try {
        for (const u of users) {
          const envelope = envelopeOf(u.data, u.partitionKey, r.SequenceNumber);
          if (!envelope) foreign++;
          else if (options.producer !== undefined && envelope.producer !== undefined && envelope.producer !== options.producer) otherProducers++;
          else envelopes.push(envelope);
        }
      } catch (error) {
        // A record this spillway cannot read yet: the records before it go; the shard is read again from there.
        if (i === 0) throw error;
        envelopes.length = before.envelopes;
        ({ foreign, otherProducers } = before);
        end = i;
        iterator = undefined;
        break;
      }
    }
    const last = records[end - 1]?.SequenceNumber as string;
    return { envelopes, foreign, otherProducers, commit: () => options.checkpoints.set(checkpointKey, last) };
  }

  async function next(max: number, signal: AbortSignal): Promise<SourceChunk | undefined> {
    if (exhausted) return undefined;
    try {
      iterator ??= await openIterator(signal);
      for (let page = 0; page < maxEmptyPages && iterator; page++) {
        const out = await bounded(signal, (abortSignal) => options.client.send(new GetRecordsCommand({ ShardIterator: iterator, Limit: Math.min(max, 10_000) }), { abortSignal }));
        iterator = out.NextShardIterator;
        const records = out.Records ?? [];
        if (records.length > 0) return toChunk(records);
        if (out.MillisBehindLatest === 0) break;
      }
    } catch (error) {
      iterator = undefined;
      throw classifyAwsError(error, context);
    }
    if (!iterator) exhausted = true; // a closed shard, read to its end
    return undefined;
  }

  /** Read from the committed position to the end with an iterator of its own; nothing is consumed. */
  async function survey(visit: (envelope: Envelope) => void, signal: AbortSignal): Promise<void> {
    try {
      let cursor = await openIterator(signal);
      for (let empty = 0; cursor && empty < maxEmptyPages; ) {
        const out = await bounded(signal, (abortSignal) => options.client.send(new GetRecordsCommand({ ShardIterator: cursor, Limit: 10_000 }), { abortSignal }));
        cursor = out.NextShardIterator;
        const records = out.Records ?? [];
        for (const envelope of toChunk(records).envelopes) visit(envelope);
        if (records.length === 0 && out.MillisBehindLatest === 0) break;
        empty = records.length === 0 ? empty + 1 : 0;
      }
    } catch (error) {
      throw classifyAwsError(error, context);
    }
  }

  return {
    id,
    next,
    survey,
    async abandon() {
      iterator = undefined; // reread from the last committed checkpoint
    },
  };
}

/** Options for {@link findIdsSince}. */
export interface FindIdsOptions {
  client: KinesisClient;
  region: string;
  stream: string;
  /** Read every shard from this moment (ms since the epoch) to its end. */
  sinceMs: number;
  ids: ReadonlySet<string>;
  signal: AbortSignal;
}

/** A record as read back from a shard. */
export interface ScannedRecord {
  readonly data: Uint8Array;
  readonly partitionKey: string;
}

/** Options for {@link scanStreamSince}: which record ids a read-back record stands for. */
export interface ScanOptions extends Omit<FindIdsOptions, 'ids'> {
  /** The id a record stands for, or `undefined` when it is none of the ones looked for. */
  match(record: ScannedRecord): string | readonly string[] | undefined;
}

/**
 * Which of `ids` are in the stream among the records written since
 * `sinceMs`: how the reconciler settles writes whose fate was unknown.
 * Shards are read in parallel, each from AT_TIMESTAMP to its end.
 */
export function findIdsSince(options: FindIdsOptions): Promise<string[]> {
  return scanStreamSince({
    ...options,
    match: ({ data, partitionKey }) => {
      const hits: string[] = [];
      let users: ReturnType<typeof deaggregate>;
      try {
        users = deaggregate(data, partitionKey);
      } catch {
        return hits; // a damaged aggregate holds none of ours that can be named
      }
      for (const u of users) {
        if (!isEnvelopeBytes(u.data)) continue;
        let found: string;
        try {
          found = decodeEnvelope(u.data, u.partitionKey).id;
        } catch {
          continue;
        }
        if (options.ids.has(found)) hits.push(found);
      }
      return hits;
    },
  });
}

/** Read every shard from `sinceMs` to its end and collect the ids `match` finds (each once). */
export async function scanStreamSince(options: ScanOptions): Promise<string[]> {
  const context = { target: `kinesis:${options.region}:${options.stream}`, region: options.region, stream: options.stream };
  try {
    const shards = await listShards(options);
    const found = await Promise.all(shards.map((shard) => findInShard(options, shard.ShardId as string)));
    return [...new Set(found.flat())];
  } catch (error) {
    throw classifyAwsError(error, context);
  }
}

/** How long an AT_TIMESTAMP iterator may take before the shard is read from its start instead. */
const AT_TIMESTAMP_DEADLINE_MS = 3_000;
/** Empty pages read while the shard still reports being behind, before giving up on it. */
const MAX_EMPTY_PAGES = 50;

async function findInShard(options: ScanOptions, shardId: string): Promise<string[]> {
  const found: string[] = [];
  let iterator = await timestampIterator(options, shardId);
  let empty = 0;
  while (iterator) {
    const page = await bounded(options.signal, (abortSignal) => options.client.send(new GetRecordsCommand({ ShardIterator: iterator, Limit: 10_000 }), { abortSignal }));
    const records = page.Records ?? [];
    for (const r of records) {
      if (!r.Data) continue;
      const hit = options.match({ data: r.Data, partitionKey: r.PartitionKey ?? '' });
      if (typeof hit === 'string') found.push(hit);
      else if (hit) found.push(...hit);
    }
    iterator = page.NextShardIterator;
    if (records.length > 0) empty = 0;
    else if (!page.MillisBehindLatest) break;
    else if (++empty >= MAX_EMPTY_PAGES) {
      // Not caught up: saying "not there" could duplicate; fail, and the uncertain writes stay for the next run.
      throw new TransientError(`shard ${shardId} of ${options.stream} is still ${page.MillisBehindLatest} ms behind after ${MAX_EMPTY_PAGES} empty pages`);
    }
  }
  return found;
}

/**
 * An AT_TIMESTAMP iterator; if it does not come within its deadline (the
 * kinesalite emulator never answers one for a shard with nothing after the
 * timestamp), a TRIM_HORIZON iterator: slower to read, never wrong.
 */
async function timestampIterator(options: ScanOptions, shardId: string): Promise<string | undefined> {
  const base = { StreamName: options.stream, ShardId: shardId };
  try {
    const out = await withDeadline(options.signal, AT_TIMESTAMP_DEADLINE_MS, (abortSignal) =>
      options.client.send(new GetShardIteratorCommand({ ...base, ShardIteratorType: 'AT_TIMESTAMP', Timestamp: new Date(options.sinceMs) }), { abortSignal }),
    );
    return out.ShardIterator;
  } catch (error) {
    if (options.signal.aborted || (error as { name?: string }).name !== 'AbortError') throw error;
    const out = await bounded(options.signal, (abortSignal) => options.client.send(new GetShardIteratorCommand({ ...base, ShardIteratorType: 'TRIM_HORIZON' }), { abortSignal }));
    return out.ShardIterator;
  }
}
