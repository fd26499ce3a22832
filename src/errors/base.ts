/**
 * The root of spillway's error taxonomy. Every error that crosses a public
 * boundary is a {@link SpillwayError}: it carries a stable `code`, whether a
 * retry can help, and where it happened. The original error, if any, is `cause`.
 */

const BRAND = Symbol.for('spillway.error');

/** Where an error happened. Every field is optional. */
export interface ErrorContext {
  /** Target id, such as `kinesis:us-east-1:orders`. */
  target?: string;
  region?: string;
  stream?: string;
  /** Record id, when the error concerns one record. */
  recordId?: string;
}

/** Options accepted by every spillway error constructor. */
export interface SpillwayErrorOptions extends ErrorContext {
  cause?: unknown;
}

/** Base class of all spillway errors. */
export class SpillwayError extends Error {
  /** Stable machine-readable code, e.g. `spillway:throttled`. */
  readonly code: string;
  /** Whether trying again (somewhere) can succeed. */
  readonly retryable: boolean;
  readonly target?: string;
  readonly region?: string;
  readonly stream?: string;
  readonly recordId?: string;

  constructor(code: string, message: string, retryable: boolean, options: SpillwayErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.code = code;
    this.retryable = retryable;
    if (options.target !== undefined) this.target = options.target;
    if (options.region !== undefined) this.region = options.region;
    if (options.stream !== undefined) this.stream = options.stream;
    if (options.recordId !== undefined) this.recordId = options.recordId;
    Object.defineProperty(this, BRAND, { value: true });
  }
}

/**
 * True for any spillway error, including one thrown by another copy of this
 * package (duck-typed on a global symbol and the `spillway:` code prefix).
 */
export function isSpillwayError(value: unknown): value is SpillwayError {
  if (typeof value !== 'object' || value === null) return false;
  const v = value as Record<PropertyKey, unknown>;
  return v[BRAND] === true || (typeof v.code === 'string' && v.code.startsWith('spillway:') && typeof v.retryable === 'boolean');
}

/** True when `value` is a spillway error with the given code. */
export function hasCode(value: unknown, code: string): boolean {
  return isSpillwayError(value) && value.code === code;
}
