/**
 * The default dead-letter destination: a disk spool of its own, holding each
 * dead-lettered record as an envelope (same id, times and payload; as a
 * delta, so it is never coalesced away). Read it back with `createDiskSpool`.
 */
import { createDiskSpool } from '../../adapters/disk/index.js';
import type { Envelope } from '../envelope/index.js';
import type { ConsumedRecord, DeadLetterSink } from './types.js';

/** A dead-letter sink on a disk spool in `dir`. */
export async function createDiskDeadLetter(dir: string): Promise<DeadLetterSink> {
  const spool = await createDiskSpool({ dir });
  return {
    put(record) {
      return spool.append([toEnvelope(record)]);
    },
    close: () => spool.close(),
  };
}

/** The envelope a consumed record came in (or one built for a record without one). */
export function toEnvelope(record: ConsumedRecord): Envelope {
  return {
    id: record.id,
    partitionKey: record.partitionKey,
    kind: 'delta',
    eventTime: record.eventTime,
    sentTime: record.sentTime,
    contentType: record.contentType,
    data: record.data,
  };
}
