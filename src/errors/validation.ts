import { isSpillwayError, SpillwayError, type SpillwayErrorOptions } from './base.js';

/**
 * The record is bad everywhere: it is never retried and never fails over.
 * The caller hears at once, before anything is written.
 */
export class ValidationError extends SpillwayError {
  static readonly code: string = 'spillway:validation';
  constructor(message: string, options?: SpillwayErrorOptions, code: string = ValidationError.code) {
    super(code, message, false, options);
  }
}

/** The encoded record plus its partition key exceeds a target's size limit. */
export class RecordTooLargeError extends ValidationError {
  static override readonly code = 'spillway:record-too-large';
  readonly size: number;
  readonly limit: number;
  constructor(size: number, limit: number, options?: SpillwayErrorOptions) {
    super(
      `record is ${size} bytes encoded (payload, envelope header and partition key), over the ${limit}-byte limit; ` +
        `split the payload or store it elsewhere (for example S3) and send a reference`,
      options,
      RecordTooLargeError.code,
    );
    this.size = size;
    this.limit = limit;
  }
}

/** Bytes that do not decode as a spillway envelope (wrong magic, version or framing). */
export class MalformedEnvelopeError extends SpillwayError {
  static readonly code = 'spillway:malformed-envelope';
  constructor(message: string, options?: SpillwayErrorOptions) {
    super(MalformedEnvelopeError.code, message, false, options);
  }
}

const VALIDATION_CODES = new Set([ValidationError.code, RecordTooLargeError.code]);

/** True for a ValidationError or any subclass, across package copies. */
export function isValidationError(value: unknown): value is ValidationError {
  return value instanceof ValidationError || (isSpillwayError(value) && VALIDATION_CODES.has(value.code));
}
