/**
 * Record framing in spool segments:
 *
 *   0..3  payload length N, unsigned 32-bit big-endian (N > 0)
 *   4..7  CRC-32 (zlib polynomial) of the payload, unsigned 32-bit big-endian
 *   8..   N payload bytes: one encoded envelope (src/envelope/codec.ts)
 */
import { crc32 } from 'node:zlib';
import { encodeEnvelope, isEnvelopeBytes } from '../../src/envelope/codec.js';
import type { Envelope } from '../../src/envelope/types.js';

/** Bytes of framing in front of every payload. */
export const FRAME_HEADER_BYTES = 8;

/** A batch encoded as consecutive frames in one buffer. */
export interface EncodedBatch {
  readonly buffer: Buffer;
  /** Byte length of each frame, header included, in batch order. */
  readonly frameLengths: readonly number[];
}

/** Encode a batch of envelopes as consecutive frames. */
export function encodeFrames(batch: readonly Envelope[]): EncodedBatch {
  const payloads = batch.map((envelope) => encodeEnvelope(envelope));
  const frameLengths = payloads.map((p) => FRAME_HEADER_BYTES + p.length);
  const buffer = Buffer.allocUnsafe(frameLengths.reduce((a, b) => a + b, 0));
  let at = 0;
  for (const payload of payloads) {
    buffer.writeUInt32BE(payload.length, at);
    buffer.writeUInt32BE(crc32(payload), at + 4);
    buffer.set(payload, at + FRAME_HEADER_BYTES);
    at += FRAME_HEADER_BYTES + payload.length;
  }
  return { buffer, frameLengths };
}

/** What was found at one offset of a buffer of frames. */
export type FrameCheck =
  | { ok: true; end: number; payload: Buffer }
  | { ok: false; kind: 'short-header' | 'short-payload' | 'zero-length' | 'crc' | 'not-envelope'; end: number; reason: string };

/** Inspect the frame starting at `at` in `buf` without throwing. */
export function checkFrame(buf: Buffer, at: number): FrameCheck {
  const left = buf.length - at;
  if (left < FRAME_HEADER_BYTES) {
    return { ok: false, kind: 'short-header', end: buf.length, reason: `only ${left} of the ${FRAME_HEADER_BYTES} header bytes are present` };
  }
  const length = buf.readUInt32BE(at);
  const end = at + FRAME_HEADER_BYTES + length;
  if (length === 0) return { ok: false, kind: 'zero-length', end, reason: 'the frame length is 0' };
  if (end > buf.length) {
    return { ok: false, kind: 'short-payload', end, reason: `the frame claims ${length} payload bytes but only ${left - FRAME_HEADER_BYTES} follow` };
  }
  const payload = buf.subarray(at + FRAME_HEADER_BYTES, end);
  if (crc32(payload) !== buf.readUInt32BE(at + 4)) {
    return { ok: false, kind: 'crc', end, reason: `the CRC-32 of the ${length}-byte payload does not match its header` };
  }
  if (!isEnvelopeBytes(payload)) return { ok: false, kind: 'not-envelope', end, reason: 'the payload is not a spillway envelope' };
  return { ok: true, end, payload };
}

/**
 * Whether the first bad frame found in the last segment, and everything after
 * it, may be cut off on open. Every append was fdatasync'd before it resolved
 * and appends to the last segment are sequential, so from its first bad frame
 * on the last segment holds only writes that never resolved: torn, or never
 * synced and written back out of order before a power loss (a hole followed
 * by data). The one exception is a whole frame whose CRC matches but whose
 * payload is not an envelope: no torn write makes that, so it is refused.
 */
export function isUnacknowledgedTail(check: Extract<FrameCheck, { ok: false }>): boolean {
  return check.kind !== 'not-envelope';
}
