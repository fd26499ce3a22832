/**
 * Small administrative helpers against a Kinesis endpoint (an emulator or the fault proxy):
 * a client factory, stream creation and a full read-back of a stream.
 *
 * These are drill and test tools, not the production adapter: the client never retries
 * (`maxAttempts: 1`) so that every fault is observed exactly once.
 */
import {
  CreateStreamCommand,
  DeleteStreamCommand,
  DescribeStreamSummaryCommand,
  GetRecordsCommand,
  GetShardIteratorCommand,
  KinesisClient,
  type KinesisClientConfig,
} from '@aws-sdk/client-kinesis';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import { listStreamShards } from '../../adapters/kinesis/shard-source.js';

/** Fixed fake credentials; the emulators check only that a request is signed. */
export const FAKE_CREDENTIALS = { accessKeyId: 'AKIDSPILLWAYLOCAL', secretAccessKey: 'spillway-local-secret' };

/** One record read back from a stream. */
export interface StreamRecord {
  /** The record payload, exactly as written. */
  readonly data: Uint8Array;
  readonly partitionKey: string;
  readonly sequenceNumber: string;
  readonly shardId: string;
}

/** Options for {@link ensureStream} and {@link readAllRecords}. */
export interface DeadlineOptions {
  /** Give up after this long; 20 000 ms by default. */
  timeoutMs?: number;
}

/**
 * Creates a KinesisClient for a plain-HTTP endpoint: HTTP/1.1 via NodeHttpHandler (the
 * emulators do not speak HTTP/2), fixed fake credentials and no retries.
 * `overrides` are merged last, e.g. `{ requestHandler: new NodeHttpHandler({ requestTimeout: 500 }) }`.
 */
export function createKinesisClientFor(
  endpoint: string,
  region = 'us-east-1',
  overrides: Partial<KinesisClientConfig> = {},
): KinesisClient {
  return new KinesisClient({
    endpoint,
    region,
    credentials: FAKE_CREDENTIALS,
    maxAttempts: 1,
    requestHandler: new NodeHttpHandler(),
    ...overrides,
  });
}

/**
 * Creates the stream if it does not exist and waits until it is ACTIVE.
 * An existing stream is accepted as it is, whatever its shard count.
 */
export async function ensureStream(
  client: KinesisClient,
  name: string,
  shardCount = 1,
  options: DeadlineOptions = {},
): Promise<void> {
  const deadline = Date.now() + (options.timeoutMs ?? 20_000);
  try {
    await client.send(new CreateStreamCommand({ StreamName: name, ShardCount: shardCount }));
  } catch (error) {
    if (errorName(error) !== 'ResourceInUseException') throw error;
  }
  let status: string | undefined;
  while (Date.now() < deadline) {
    const summary = await client.send(new DescribeStreamSummaryCommand({ StreamName: name }));
    status = summary.StreamDescriptionSummary?.StreamStatus;
    if (status === 'ACTIVE') return;
    await pause(50);
  }
  throw new Error(`Stream ${name} did not become ACTIVE in time (last status: ${status ?? 'unknown'}).`);
}

/** Deletes a stream, ignoring one that does not exist. Does not wait for the deletion to finish. */
export async function deleteStreamIfExists(client: KinesisClient, name: string): Promise<void> {
  try {
    await client.send(new DeleteStreamCommand({ StreamName: name, EnforceConsumerDeletion: true }));
  } catch (error) {
    if (errorName(error) !== 'ResourceNotFoundException') throw error;
  }
}

/**
 * Reads every record of every shard from TRIM_HORIZON until each shard is caught up
 * (an empty page with `MillisBehindLatest === 0`, or no `NextShardIterator` for a closed shard).
 * Records come shard by shard in ListShards order, in sequence order within a shard.
 */
export async function readAllRecords(
  client: KinesisClient,
  stream: string,
  options: DeadlineOptions = {},
): Promise<StreamRecord[]> {
  const deadline = Date.now() + (options.timeoutMs ?? 20_000);
  const records: StreamRecord[] = [];
  for (const shard of await listStreamShards(client, stream)) {
    if (shard.ShardId === undefined) continue;
    records.push(...(await readShard(client, stream, shard.ShardId, deadline)));
  }
  return records;
}

async function readShard(
  client: KinesisClient,
  stream: string,
  shardId: string,
  deadline: number,
): Promise<StreamRecord[]> {
  const start = await client.send(
    new GetShardIteratorCommand({ StreamName: stream, ShardId: shardId, ShardIteratorType: 'TRIM_HORIZON' }),
  );
  const records: StreamRecord[] = [];
  let iterator = start.ShardIterator;
  while (iterator !== undefined && iterator !== null) {
    if (Date.now() > deadline) throw new Error(`Reading shard ${shardId} of ${stream} did not catch up in time.`);
    const page = await client.send(new GetRecordsCommand({ ShardIterator: iterator, Limit: 10_000 }));
    for (const record of page.Records ?? []) {
      records.push({
        data: record.Data ?? new Uint8Array(),
        partitionKey: record.PartitionKey ?? '',
        sequenceNumber: record.SequenceNumber ?? '',
        shardId,
      });
    }
    const empty = (page.Records ?? []).length === 0;
    if (empty && (page.MillisBehindLatest ?? 0) === 0) break;
    iterator = page.NextShardIterator;
  }
  return records;
}

function errorName(error: unknown): string | undefined {
  return typeof error === 'object' && error !== null && 'name' in error ? String(error.name) : undefined;
}

function pause(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
