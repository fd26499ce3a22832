import { SpillwayError, type SpillwayErrorOptions } from './base.js';

/** Why a spool refused a batch for lack of room. */
export type SpoolFullReason =
  /** The configured cap (`maxBytes`) would be exceeded. */
  | 'max-bytes'
  /** The filesystem or quota said ENOSPC / EDQUOT. */
  | 'disk-full'
  /** `whenFull: 'block'` waited `blockTimeoutMs` and room did not come. */
  | 'timeout'
  /** The batch alone is larger than the cap. */
  | 'too-large';

/** Options of {@link SpoolFullError}. */
export interface SpoolFullErrorOptions extends SpillwayErrorOptions {
  /** The spool's id, e.g. `disk:/var/spool/spillway`. */
  spool?: string;
  reason?: SpoolFullReason;
}

/**
 * The spool has no room for a batch: its configured cap is reached, or the
 * filesystem is full. Nothing of the batch was stored and nothing already
 * stored was touched; the message names the cap, the directory and the fix.
 */
export class SpoolFullError extends SpillwayError {
  static readonly code = 'spillway:spool-full';
  readonly spool?: string;
  readonly reason?: SpoolFullReason;
  constructor(message: string, options: SpoolFullErrorOptions = {}) {
    super(SpoolFullError.code, message, false, options);
    if (options.spool !== undefined) this.spool = options.spool;
    if (options.reason !== undefined) this.reason = options.reason;
  }
}

/** Options of {@link SpoolCorruptError}. */
export interface SpoolCorruptErrorOptions extends SpillwayErrorOptions {
  /** The spool's id or directory. */
  spool?: string;
  /** The file and byte offset of the damage, when known. */
  file?: string;
  offset?: number;
}

/**
 * The spool holds data it cannot read back (bad checksum or framing,
 * unreadable files, wrong permissions). The message says what to do.
 */
export class SpoolCorruptError extends SpillwayError {
  static readonly code: string = 'spillway:spool-corrupt';
  readonly spool?: string;
  readonly file?: string;
  readonly offset?: number;
  constructor(message: string, options: SpoolCorruptErrorOptions = {}, code: string = SpoolCorruptError.code) {
    super(code, message, false, options);
    if (options.spool !== undefined) this.spool = options.spool;
    if (options.file !== undefined) this.file = options.file;
    if (options.offset !== undefined) this.offset = options.offset;
  }
}

/**
 * Records in the spool were sealed with another key than the one configured
 * (told apart from damage by the key id stored with each record). Nothing is
 * decrypted to garbage; the message names the spool and both key ids.
 */
export class SpoolKeyMismatchError extends SpoolCorruptError {
  static override readonly code = 'spillway:spool-key-mismatch';
  /** Key id found on the record. */
  readonly foundKeyId: string;
  /** Key id of the configured key. */
  readonly expectedKeyId: string;
  constructor(where: string, foundKeyId: string, expectedKeyId: string, options: SpoolCorruptErrorOptions = {}) {
    super(
      `${where} holds records encrypted with key id ${foundKeyId}, but the configured spool key has id ${expectedKeyId}: ` +
        `the key does not match. Configure the key these records were written with (spool encryption key or its ` +
        `environment variable); the records were left untouched`,
      options,
      SpoolKeyMismatchError.code,
    );
    this.foundKeyId = foundKeyId;
    this.expectedKeyId = expectedKeyId;
  }
}
