/**
 * Record framing in spool segments:
 *
 *   0..3  payload length N, unsigned 32-bit big-endian (N > 0)
 *   4..7  CRC-32 (zlib polynomial) of the payload, unsigned 32-bit big-endian
 *   8..   N payload bytes: one encoded envelope (src/envelope/codec.ts,
 *         magic "SPW"), or one sealed envelope (src/crypto/spool-cipher.ts,
 *         magic "SPE") when the spool is encrypted
 */
import { crc32 } from 'node:zlib';
import type { SpoolCipher } from '../../src/contracts/spool.js';
import { encodeEnvelope } from '../../src/envelope/codec.js';
import type { Envelope } from '../../src/envelope/types.js';

/** Bytes of framing in front of every payload. */
export const FRAME_HEADER_BYTES = 8;

/** A batch encoded as consecutive frames in one buffer. */
export interface EncodedBatch {
  readonly buffer: Buffer;
  /** Number of records (frames) in the buffer. */
  readonly records: number;
}

/** Encode a batch of envelopes as consecutive frames, sealing each payload when `cipher` is given. */
export function encodeFrames(batch: readonly Envelope[], cipher?: SpoolCipher): EncodedBatch {
  if (batch.length === 1 && cipher === undefined) return { buffer: frameOne(encodeEnvelope(batch[0] as Envelope)), records: 1 };
  const payloads: Uint8Array[] = new Array<Uint8Array>(batch.length);
  let total = 0;
  for (let i = 0; i < batch.length; i += 1) {
    const plain = encodeEnvelope(batch[i] as Envelope);
    const payload = cipher === undefined ? plain : cipher.seal(plain);
    payloads[i] = payload;
    total += FRAME_HEADER_BYTES + payload.length;
  }
  const buffer = Buffer.allocUnsafe(total);
  let at = 0;
  for (const payload of payloads) {
    buffer.writeUInt32BE(payload.length, at);
    buffer.writeUInt32BE(crc32(payload), at + 4);
    buffer.set(payload, at + FRAME_HEADER_BYTES);
    at += FRAME_HEADER_BYTES + payload.length;
  }
  return { buffer, records: batch.length };
}

function frameOne(payload: Uint8Array): Buffer {
  const buffer = Buffer.allocUnsafe(FRAME_HEADER_BYTES + payload.length);
  buffer.writeUInt32BE(payload.length, 0);
  buffer.writeUInt32BE(crc32(payload), 4);
  buffer.set(payload, FRAME_HEADER_BYTES);
  return buffer;
}

/** What was found at one offset of a buffer of frames. */
export type FrameCheck =
  | { ok: true; end: number; payload: Buffer }
  | { ok: false; kind: 'short-header' | 'short-payload' | 'zero-length' | 'crc' | 'not-envelope'; end: number; reason: string };

/** True for a payload that starts like an envelope ("SPW") or a sealed envelope ("SPE"). */
function isRecordPayload(buf: Buffer, at: number, end: number): boolean {
  return end - at >= 4 && buf[at] === 0x53 && buf[at + 1] === 0x50 && (buf[at + 2] === 0x57 || buf[at + 2] === 0x45);
}

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
  if (!isRecordPayload(buf, at + FRAME_HEADER_BYTES, end)) return { ok: false, kind: 'not-envelope', end, reason: 'the payload is not a spillway envelope' };
  return { ok: true, end, payload };
}

const PAYLOAD_MAGIC = Buffer.from('SP');

/**
 * The offset of the first valid frame at or after `from` in `buf`, or -1.
 * Used to resume reading after damage: candidates are found by the payload
 * magic, and only those pay for a CRC check.
 */
export function findNextFrame(buf: Buffer, from: number): number {
  let search = from + FRAME_HEADER_BYTES;
  for (;;) {
    const magic = buf.indexOf(PAYLOAD_MAGIC, search);
    if (magic < 0) return -1;
    const at = magic - FRAME_HEADER_BYTES;
    if (checkFrame(buf, at).ok) return at;
    search = magic + 1;
  }
}

/**
 * Whether bad bytes found at the end of the last segment, with no valid frame
 * after them, are a torn tail: an incomplete final frame (its header or its
 * payload runs past the end of the file) or zeros (a file extended by a crash
 * before its data reached the disk). Anything else is damage.
 */
export function isTornTail(check: Extract<FrameCheck, { ok: false }>, tail: Buffer): boolean {
  if (check.kind === 'short-header' || check.kind === 'short-payload') return true;
  return tail.every((byte) => byte === 0);
}
