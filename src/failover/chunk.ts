import { encodedSize, type Envelope } from '../envelope/index.js';
import { keyBytesOf } from '../envelope/codec-v2.js';

/**
 * Split records, in order, into chunks of at most `maxRecords` records and
 * `maxBytes` bytes (encoded envelope plus partition key, as Kinesis counts).
 */
export function chunkBatch(records: readonly Envelope[], maxRecords: number, maxBytes: number): Envelope[][] {
  const chunks: Envelope[][] = [];
  let current: Envelope[] = [];
  let bytes = 0;
  for (const record of records) {
    const size = recordBytes(record);
    if (current.length > 0 && (current.length >= maxRecords || bytes + size > maxBytes)) {
      chunks.push(current);
      current = [];
      bytes = 0;
    }
    current.push(record);
    bytes += size;
  }
  if (current.length > 0) chunks.push(current);
  return chunks;
}

/** Bytes a record counts for against Kinesis limits: encoded envelope plus partition key. */
export function recordBytes(record: Envelope): number {
  return encodedSize(record) + keyBytesOf(record);
}
