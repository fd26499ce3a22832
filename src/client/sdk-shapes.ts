/**
 * Translating between the Kinesis SDK's PutRecord(s) shapes and the bus:
 * commands in, `RecordInput`s out; per-record outcomes in, the SDK's own
 * output shapes out, with a documented marker where a record landed on
 * another tier.
 */
import type { PutRecordCommandOutput, PutRecordInput, PutRecordsCommandOutput, PutRecordsInput, PutRecordsResultEntry } from '@aws-sdk/client-kinesis';
import type { BatchItemResult } from '../bus/bus.js';
import type { RecordInput } from '../envelope/index.js';
import { KINESIS_MAX_BATCH_RECORDS, KINESIS_MAX_REQUEST_BYTES } from '../envelope/index.js';
import { ValidationError } from '../errors/index.js';
import type { LandedOn } from '../failover/router.js';

/** The `ShardId` prefix of a record that another tier holds: `spillway:<tier>:<target id>`. */
export const MARKER_PREFIX = 'spillway:';

/** The stream a command names: `StreamName`, or the name inside `StreamARN`. */
export function streamOf(input: { StreamName?: string | undefined; StreamARN?: string | undefined }): string {
  if (input.StreamName) return input.StreamName;
  const arn = input.StreamARN;
  const match = arn ? /^arn:[^:]+:kinesis:[^:]*:[^:]*:stream\/([a-zA-Z0-9_.-]{1,128})$/.exec(arn) : null;
  if (match?.[1]) return match[1];
  if (arn) throw new ValidationError(`StreamARN "${arn}" is not a Kinesis stream ARN (arn:aws:kinesis:<region>:<account>:stream/<name>)`);
  throw new ValidationError('the command names no stream; set StreamName or StreamARN');
}

/**
 * The records of a PutRecords command as bus inputs; throws before anything is
 * sent when the command is malformed, or breaks a per-call limit Kinesis
 * enforces (500 records, 10 MiB of data plus partition keys): Kinesis rejects
 * such a call whole, so spillway does not split it and write it anyway. A call
 * of 5 to 10 MiB, which Kinesis takes and older endpoints and emulators do
 * not, is sent as calls of at most 5 MiB.
 */
export function inputsOfPutRecords(input: PutRecordsInput): RecordInput[] {
  const records = input.Records ?? [];
  if (!Array.isArray(records) || records.length === 0) throw new ValidationError('PutRecords needs at least one record in Records');
  if (records.length > KINESIS_MAX_BATCH_RECORDS) {
    throw new ValidationError(
      `PutRecords takes at most ${KINESIS_MAX_BATCH_RECORDS} records per call, got ${records.length}; split Records into calls of ${KINESIS_MAX_BATCH_RECORDS} or fewer (Kinesis answers ValidationException)`,
    );
  }
  const inputs = records.map((r, i) => toRecordInput(r, `Records[${i}]`));
  let bytes = 0;
  for (const r of inputs) bytes += r.data.byteLength + (typeof r.partitionKey === 'string' ? Buffer.byteLength(r.partitionKey, 'utf8') : 0);
  if (bytes > KINESIS_MAX_REQUEST_BYTES) {
    throw new ValidationError(
      `PutRecords carries at most ${KINESIS_MAX_REQUEST_BYTES} bytes per call (data plus partition keys), got ${bytes}; split Records into smaller calls (Kinesis answers InvalidArgumentException)`,
    );
  }
  return inputs;
}

/** The record of a PutRecord command as a bus input. */
export function inputOfPutRecord(input: PutRecordInput): RecordInput {
  return toRecordInput(input, 'PutRecord');
}

/** `Data` as the SDK serializes it: bytes as they are, a string as its UTF-8 bytes (the SDK's blob serializer does the same). */
function toRecordInput(r: { Data?: Uint8Array | string | undefined; PartitionKey?: string | undefined; ExplicitHashKey?: string | undefined }, where: string): RecordInput & { data: Uint8Array } {
  const data = typeof r.Data === 'string' ? Buffer.from(r.Data, 'utf8') : r.Data;
  if (!(data instanceof Uint8Array)) throw new ValidationError(`${where}.Data must be bytes (a Uint8Array or Buffer) or a string`);
  return {
    partitionKey: r.PartitionKey as string,
    data,
    ...(r.ExplicitHashKey === undefined ? {} : { explicitHashKey: r.ExplicitHashKey }),
  };
}

/** The SDK's result entry for a record that landed somewhere. */
export function entryFor(id: string, landedOn: LandedOn): PutRecordsResultEntry {
  if (landedOn.tier === 'primary') {
    return { SequenceNumber: landedOn.receipt?.sequenceNumber ?? `${MARKER_PREFIX}${id}`, ShardId: landedOn.receipt?.shardId ?? 'shardId-unknown' };
  }
  return { SequenceNumber: `${MARKER_PREFIX}${id}`, ShardId: `${MARKER_PREFIX}${landedOn.tier}:${landedOn.target}` };
}

const METADATA = { httpStatusCode: 200, attempts: 1, totalRetryDelay: 0 } as const;

/** A PutRecords output from per-record results: failures reported the SDK way, never thrown. */
export function putRecordsOutput(results: readonly BatchItemResult[]): PutRecordsCommandOutput {
  let failed = 0;
  const Records = results.map((r): PutRecordsResultEntry => {
    if (r.ok) return entryFor(r.id, r.landedOn);
    failed++;
    return { ErrorCode: 'InternalFailure', ErrorMessage: `${r.error.message} [${r.error.code}]` };
  });
  return { $metadata: { ...METADATA }, FailedRecordCount: failed, Records };
}

/** A PutRecord output for a record that landed somewhere. */
export function putRecordOutput(id: string, landedOn: LandedOn): PutRecordCommandOutput {
  const entry = entryFor(id, landedOn);
  return { $metadata: { ...METADATA }, ShardId: entry.ShardId as string, SequenceNumber: entry.SequenceNumber as string };
}
