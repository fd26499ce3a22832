import { SpillwayError, type SpillwayErrorOptions } from './base.js';

/** The spool has reached its configured size limit and refuses new records. */
export class SpoolFullError extends SpillwayError {
  static readonly code = 'spillway:spool-full';
  constructor(message: string, options?: SpillwayErrorOptions) {
    super(SpoolFullError.code, message, false, options);
  }
}

/**
 * The spool holds data it cannot read back (bad checksum or framing before the
 * tail, unreadable files, wrong permissions). The message says what to do.
 */
export class SpoolCorruptError extends SpillwayError {
  static readonly code = 'spillway:spool-corrupt';
  constructor(message: string, options?: SpillwayErrorOptions) {
    super(SpoolCorruptError.code, message, false, options);
  }
}
