/** Kinesis: data blob plus partition key, per record. */
export const KINESIS_MAX_RECORD_BYTES = 1_048_576;
/** Kinesis: records per PutRecords call. */
export const KINESIS_MAX_BATCH_RECORDS = 500;
/** Kinesis: bytes (data plus partition keys) per PutRecords call. */
export const KINESIS_MAX_BATCH_BYTES = 5 * 1_048_576;
/** Kinesis: partition key length, in Unicode characters. */
export const KINESIS_MAX_PARTITION_KEY_CHARS = 256;
