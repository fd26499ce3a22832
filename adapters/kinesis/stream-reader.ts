/**
 * Consumer-side reading of one Kinesis stream: its shards with their
 * parent/child lineage (`ListShards`), and a reader per shard that starts
 * AFTER_SEQUENCE_NUMBER a checkpoint (TRIM_HORIZON without one), pages with
 * `GetRecords`, and reopens an expired iterator from the last record it
 * handed out, so nothing is skipped or read twice by the reader itself.
 *
 * Invariants:
 * - a page is returned in sequence order; `next` never returns a record
 *   twice unless `reset` is called (then it resumes after `resetAfter`);
 * - a closed shard (no `NextShardIterator`) reports `ended: true` once it has
 *   handed out its last record; only then may its children be read.
 * Raw SDK errors never leave this module: they are classified first.
 */
import { ExpiredIteratorException, GetRecordsCommand, GetShardIteratorCommand, type KinesisClient } from '@aws-sdk/client-kinesis';
import type { SpillwayError } from '../../src/errors/index.js';
import { classifyAwsError } from '../aws/classify.js';
import { listStreamShards } from './shard-source.js';
import { withDeadline } from '../../src/failover/deadline.js';

/** Longest a single read call may take before it counts as failed. */
const READ_TIMEOUT_MS = 10_000;

/** One shard of a stream and where it came from. */
export interface ShardLineage {
  shardId: string;
  /** The shard it was split from, or one of the two it was merged from. */
  parentShardId?: string;
  /** The other parent of a merge. */
  adjacentParentShardId?: string;
  /** True when the shard no longer takes writes (it has an ending sequence number). */
  closed: boolean;
}

/** A record as read from a shard. */
export interface ShardRecord {
  readonly data: Uint8Array;
  readonly partitionKey: string;
  readonly sequenceNumber: string;
  /** Milliseconds since the epoch when Kinesis accepted it. */
  readonly arrivedAt: number;
}

/** One page of a shard. */
export interface ShardPage {
  records: ShardRecord[];
  /** How far behind the tip of the shard the reader is, in ms (Kinesis' MillisBehindLatest). */
  millisBehind: number;
  /** The shard is closed and every record of it has been returned. */
  ended: boolean;
}

/** Where a stream lives, for error context and the client. */
export interface StreamLocation {
  client: KinesisClient;
  region: string;
  stream: string;
}

/** Every shard of the stream with its lineage; errors are classified. */
export async function listShardLineage(location: StreamLocation, signal?: AbortSignal): Promise<ShardLineage[]> {
  try {
    const shards = signal ? await listStreamShards(location.client, location.stream, signal) : await withDeadline(undefined, 5_000, (abortSignal) => listStreamShards(location.client, location.stream, abortSignal));
    return shards.map((s) => ({
      shardId: s.ShardId as string,
      ...(s.ParentShardId ? { parentShardId: s.ParentShardId } : {}),
      ...(s.AdjacentParentShardId ? { adjacentParentShardId: s.AdjacentParentShardId } : {}),
      closed: s.SequenceNumberRange?.EndingSequenceNumber !== undefined,
    }));
  } catch (error) {
    throw classify(location, error);
  }
}

/** Options for {@link createShardReader}. */
export interface ShardReaderOptions extends StreamLocation {
  shardId: string;
  /** Read after this sequence number; from TRIM_HORIZON when absent. */
  after?: string;
  /** Records per GetRecords call (default 1000, at most 10000). */
  limit?: number;
}

/** Reads one shard page by page. */
export interface ShardReader {
  readonly shardId: string;
  /** The next page (possibly empty); throws a classified {@link SpillwayError}. */
  next(signal: AbortSignal): Promise<ShardPage>;
  /** Forget the iterator: the next call reopens after `after` (TRIM_HORIZON when undefined). */
  resetAfter(after: string | undefined): void;
}

/** A reader over one shard. */
export function createShardReader(options: ShardReaderOptions): ShardReader {
  const limit = Math.min(options.limit ?? 1_000, 10_000);
  let after = options.after;
  let iterator: string | undefined;
  let ended = false;

  async function open(signal: AbortSignal): Promise<string | undefined> {
    const out = await bounded(signal, (abortSignal) =>
      options.client.send(
        new GetShardIteratorCommand({
          StreamName: options.stream,
          ShardId: options.shardId,
          ...(after ? { ShardIteratorType: 'AFTER_SEQUENCE_NUMBER', StartingSequenceNumber: after } : { ShardIteratorType: 'TRIM_HORIZON' }),
        }),
        { abortSignal },
      ),
    );
    return out.ShardIterator;
  }

  async function page(signal: AbortSignal): Promise<ShardPage> {
    if (ended) return { records: [], millisBehind: 0, ended: true };
    iterator ??= await open(signal);
    if (!iterator) return finish([]);
    const out = await bounded(signal, (abortSignal) => options.client.send(new GetRecordsCommand({ ShardIterator: iterator, Limit: limit }), { abortSignal }));
    const records: ShardRecord[] = (out.Records ?? []).map((r) => ({
      data: r.Data ?? new Uint8Array(),
      partitionKey: r.PartitionKey ?? '',
      sequenceNumber: r.SequenceNumber as string,
      arrivedAt: r.ApproximateArrivalTimestamp?.getTime() ?? Date.now(),
    }));
    if (records.length > 0) after = records.at(-1)?.sequenceNumber;
    iterator = out.NextShardIterator ?? undefined;
    if (!iterator) return finish(records);
    return { records, millisBehind: out.MillisBehindLatest ?? 0, ended: false };
  }

  function finish(records: ShardRecord[]): ShardPage {
    ended = true; // a closed shard, read to its end
    return { records, millisBehind: 0, ended: true };
  }

  return {
    shardId: options.shardId,
    async next(signal) {
      try {
        return await page(signal);
      } catch (error) {
        iterator = undefined; // reopen after the last record handed out
        if (error instanceof ExpiredIteratorException || (error as { name?: string }).name === 'ExpiredIteratorException') {
          return { records: [], millisBehind: 0, ended: false };
        }
        throw classify(options, error, options.shardId);
      }
    },
    resetAfter(sequenceNumber) {
      after = sequenceNumber;
      iterator = undefined;
      ended = false;
    },
  };
}

/** `send` under the caller's signal and the per-call read timeout, which is dropped when the call ends. */
function bounded<T>(signal: AbortSignal, send: (abortSignal: AbortSignal) => Promise<T>): Promise<T> {
  return withDeadline(signal, READ_TIMEOUT_MS, send);
}

function classify(location: Pick<StreamLocation, 'region' | 'stream'>, error: unknown, shardId?: string): SpillwayError {
  const target = `kinesis:${location.region}:${location.stream}${shardId ? `/${shardId}` : ''}`;
  return classifyAwsError(error, { target, region: location.region, stream: location.stream });
}
