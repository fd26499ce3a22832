/**
 * Wire format v1 (see docs/wire-format.md). The same bytes travel through
 * every tier, so a consumer decodes a record the same way wherever it landed:
 *
 *   0..3   magic and version: 0x53 0x50 0x57 0x01 ("SPW" + 1)
 *   4..7   header length H, unsigned 32-bit big-endian
 *   8..    H bytes of UTF-8 JSON header:
 *          {"id","partitionKey","kind","coalesceKey"?,"eventTime","sentTime","contentType"}
 *   8+H..  payload bytes, exactly as the producer gave them
 */
import { MalformedEnvelopeError } from '../errors/index.js';
import type { ContentType, Envelope, RecordKind } from './types.js';

const MAGIC = [0x53, 0x50, 0x57] as const;
const VERSION = 1;
const PREFIX = 8;

interface Header {
  id: string;
  partitionKey: string;
  kind: RecordKind;
  coalesceKey?: string;
  eventTime: number;
  sentTime: number;
  contentType: ContentType;
  explicitHashKey?: string;
  producer?: string;
}

const encoded = new WeakMap<Envelope, Uint8Array>();

/** Encode an envelope to its wire bytes (memoised: envelopes are immutable). */
export function encodeEnvelope(envelope: Envelope): Uint8Array {
  let bytes = encoded.get(envelope);
  if (bytes === undefined) {
    bytes = encodeUncached(envelope);
    encoded.set(envelope, bytes);
  }
  return bytes;
}

function encodeUncached(envelope: Envelope): Uint8Array {
  const header: Header = {
    id: envelope.id,
    partitionKey: envelope.partitionKey,
    kind: envelope.kind,
    ...(envelope.coalesceKey === undefined ? {} : { coalesceKey: envelope.coalesceKey }),
    eventTime: envelope.eventTime,
    sentTime: envelope.sentTime,
    contentType: envelope.contentType,
    ...(envelope.explicitHashKey === undefined ? {} : { explicitHashKey: envelope.explicitHashKey }),
    ...(envelope.producer === undefined ? {} : { producer: envelope.producer }),
  };
  const head = Buffer.from(JSON.stringify(header), 'utf8');
  const out = Buffer.allocUnsafe(PREFIX + head.length + envelope.data.length);
  out[0] = MAGIC[0];
  out[1] = MAGIC[1];
  out[2] = MAGIC[2];
  out[3] = VERSION;
  out.writeUInt32BE(head.length, 4);
  head.copy(out, PREFIX);
  out.set(envelope.data, PREFIX + head.length);
  return out;
}

/** Size in bytes of `encodeEnvelope(envelope)`. */
export function encodedSize(envelope: Envelope): number {
  return encodeEnvelope(envelope).length;
}

/** True when the bytes start with the spillway magic (any version). */
export function isEnvelopeBytes(bytes: Uint8Array): boolean {
  return bytes.length >= PREFIX && bytes[0] === MAGIC[0] && bytes[1] === MAGIC[1] && bytes[2] === MAGIC[2];
}

/** Decode wire bytes back to an envelope; throws {@link MalformedEnvelopeError}. */
export function decodeEnvelope(bytes: Uint8Array): Envelope {
  if (!isEnvelopeBytes(bytes)) {
    throw new MalformedEnvelopeError('bytes do not start with the spillway envelope magic "SPW"; the record was not written by spillway');
  }
  if (bytes[3] !== VERSION) {
    throw new MalformedEnvelopeError(`envelope version ${bytes[3]} is not supported by this spillway (it reads version ${VERSION}); upgrade spillway`);
  }
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
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
    ...(typeof header.explicitHashKey === 'string' ? { explicitHashKey: header.explicitHashKey } : {}),
    ...(typeof header.producer === 'string' ? { producer: header.producer } : {}),
    data: new Uint8Array(buf.buffer, buf.byteOffset + PREFIX + headLength, buf.length - PREFIX - headLength),
  };
}

/** Read the payload as the producer meant it: bytes, text or parsed JSON. */
export function payloadOf(envelope: Envelope): Uint8Array | string | unknown {
  const text = (): string => Buffer.from(envelope.data.buffer, envelope.data.byteOffset, envelope.data.byteLength).toString('utf8');
  if (envelope.contentType === 'application/json') return JSON.parse(text());
  if (envelope.contentType === 'text/plain') return text();
  return envelope.data;
}
