/**
 * How an envelope travels through EventBridge: in the event's `Detail`, which
 * EventBridge requires to be a JSON object:
 *
 *   {"spillway":1,"id":"<record id>","partitionKey":"<key>","envelope":"<base64 of encodeEnvelope>"}
 *
 * `id` and `partitionKey` are copies for rules and people to read (a rule can
 * match on `detail.partitionKey`); the reconciler reads only `envelope`.
 *
 * Size math: EventBridge takes 262,144 bytes per PutEvents call, counting for
 * each entry 14 bytes for `Time`, the UTF-8 bytes of `Source`, `DetailType`
 * and `Detail`. `Time` (14), `Source` (at most 256), `DetailType` (at most
 * 128) and the JSON around the base64 (at most 1,616: 80 fixed, and a
 * 256-character key escaped at 6 bytes a character) take at most 2,014 bytes;
 * 3,072 are reserved. The rule delivers the whole event to the drain queue,
 * which adds about 300 bytes of its own fields (`version`, `id`, `account`,
 * `time`, `region`, `resources`, the keys): spillway keeps each entry to
 * 261,120 bytes so the delivered message still fits SQS's 262,144. So base64
 * may take 262,144 − 1,024 − 3,072 = 258,048 characters, and an encoded
 * envelope of up to 3 × 258,048 / 4 = 193,536 bytes always fits. The target
 * measures each entry exactly; the reserve only sets the advertised limit.
 */
import { encodeEnvelope, type Envelope } from '../../src/envelope/index.js';
import { bodyToEnvelope } from '../sqs/body.js';

/** EventBridge: bytes per PutEvents call (all entries together). */
export const EVENTBRIDGE_MAX_CALL_BYTES = 262_144;
/** EventBridge: entries per PutEvents call. */
export const EVENTBRIDGE_MAX_BATCH_ENTRIES = 10;
/** Largest entry spillway puts: room for the delivered event's own fields in a 262,144-byte SQS message. */
export const EVENTBRIDGE_MAX_ENTRY_BYTES = EVENTBRIDGE_MAX_CALL_BYTES - 1_024;
/** Largest encoded envelope that always fits in one event, whatever the source, detail type and key. */
export const EVENTBRIDGE_MAX_RECORD_BYTES = ((EVENTBRIDGE_MAX_ENTRY_BYTES - 3_072) / 4) * 3;
/** Bytes EventBridge counts for an entry's `Time`. */
const TIME_BYTES = 14;

/** The `Detail` JSON for an envelope. */
export function envelopeToDetail(envelope: Envelope): string {
  const bytes = encodeEnvelope(envelope);
  const base64 = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64');
  return JSON.stringify({ spillway: 1, id: envelope.id, partitionKey: envelope.partitionKey, envelope: base64 });
}

/** Bytes an entry takes in a PutEvents call, as EventBridge counts them. */
export function entryBytes(source: string, detailType: string, detail: string): number {
  return TIME_BYTES + Buffer.byteLength(source, 'utf8') + Buffer.byteLength(detailType, 'utf8') + Buffer.byteLength(detail, 'utf8');
}

/**
 * The envelope in a drain-queue message: the event as EventBridge delivers it
 * (`{ version, id, detail-type, source, time, region, detail, ... }`).
 * `undefined` for anything spillway did not put; throws for a damaged envelope.
 */
export function eventToEnvelope(body: string): Envelope | undefined {
  let event: unknown;
  try {
    event = JSON.parse(body);
  } catch {
    return undefined;
  }
  const detail = (event as { detail?: { spillway?: unknown; envelope?: unknown } } | null)?.detail;
  if (detail?.spillway !== 1 || typeof detail.envelope !== 'string') return undefined;
  return bodyToEnvelope(detail.envelope);
}
