/** Kinesis: data blob plus partition key, per record. */
export const KINESIS_MAX_RECORD_BYTES = 1_048_576;
/** Kinesis: records per PutRecords call. */
export const KINESIS_MAX_BATCH_RECORDS = 500;
/**
 * Bytes (data plus partition keys) per PutRecords call that spillway sends:
 * the limit every Kinesis endpoint and emulator takes (Kinesis itself now
 * takes up to {@link KINESIS_MAX_REQUEST_BYTES}).
 */
export const KINESIS_MAX_BATCH_BYTES = 5 * 1_048_576;
/** Kinesis: the most one PutRecords request may carry (data plus partition keys) since large records, 10 MiB. */
export const KINESIS_MAX_REQUEST_BYTES = 10 * 1_048_576;
/** Kinesis: partition key length, in Unicode characters. */
export const KINESIS_MAX_PARTITION_KEY_CHARS = 256;
