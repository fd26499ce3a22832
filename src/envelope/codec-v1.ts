/**
 * Wire format v1 (see docs/wire-format.md), still decoded; new records are
 * written as v2 (codec-v2.ts):
 *
 *   0..3   magic and version: 0x53 0x50 0x57 0x01 ("SPW" + 1)
 *   4..7   header length H, unsigned 32-bit big-endian
 *   8..    H bytes of UTF-8 JSON header:
 *          {"id","partitionKey","kind","coalesceKey"?,"eventTime","sentTime","contentType"}
 *   8+H..  payload bytes, exactly as the producer gave them
 */
import { MalformedEnvelopeError } from '../errors/index.js';
import type { ContentType, Envelope, RecordKind } from './types.js';

const PREFIX = 8;

interface Header {
  id: string;
  partitionKey: string;
  kind: RecordKind;
  coalesceKey?: string;
  eventTime: number;
  sentTime: number;
  contentType: ContentType;
}

/** Encode as v1. Kept so compatibility can be tested and old readers served; spillway writes v2. */
export function encodeEnvelopeV1(envelope: Envelope): Uint8Array {
  const header: Header = {
    id: envelope.id,
    partitionKey: envelope.partitionKey,
    kind: envelope.kind,
    ...(envelope.coalesceKey === undefined ? {} : { coalesceKey: envelope.coalesceKey }),
    eventTime: envelope.eventTime,
    sentTime: envelope.sentTime,
    contentType: envelope.contentType,
  };
  const head = Buffer.from(JSON.stringify(header), 'utf8');
  const out = Buffer.allocUnsafe(PREFIX + head.length + envelope.data.length);
  out.set([0x53, 0x50, 0x57, 0x01], 0);
  out.writeUInt32BE(head.length, 4);
  head.copy(out, PREFIX);
  out.set(envelope.data, PREFIX + head.length);
  return out;
}

/** Decode v1 bytes (magic and version already checked by the caller). */
export function decodeEnvelopeV1(bytes: Uint8Array): Envelope {
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (buf.length < PREFIX) throw new MalformedEnvelopeError(`v1 envelope is ${buf.length} bytes, shorter than its ${PREFIX}-byte prefix`);
  const headLength = buf.readUInt32BE(4);
  if (PREFIX + headLength > buf.length) {
    throw new MalformedEnvelopeError(`envelope header claims ${headLength} bytes but only ${buf.length - PREFIX} follow`);
  }
  let header: Header;
  try {
    header = JSON.parse(buf.toString('utf8', PREFIX, PREFIX + headLength)) as Header;
  } catch (cause) {
    throw new MalformedEnvelopeError('envelope header is not valid JSON', { cause });
  }
  if (typeof header.id !== 'string' || typeof header.partitionKey !== 'string' || typeof header.sentTime !== 'number') {
    throw new MalformedEnvelopeError('envelope header lacks id, partitionKey or sentTime');
  }
  return {
    id: header.id,
    partitionKey: header.partitionKey,
    kind: header.kind === 'snapshot' ? 'snapshot' : 'delta',
    ...(header.coalesceKey === undefined ? {} : { coalesceKey: header.coalesceKey }),
    eventTime: header.eventTime,
    sentTime: header.sentTime,
    contentType: header.contentType,
    data: new Uint8Array(buf.buffer, buf.byteOffset + PREFIX + headLength, buf.length - PREFIX - headLength),
  };
}
