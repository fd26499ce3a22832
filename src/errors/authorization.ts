import { isSpillwayError, SpillwayError, type SpillwayErrorOptions } from './base.js';

/**
 * The target refused who we are: access denied, an unknown or expired key, a
 * credential provider chain that found nothing. Not an outage and not
 * transient: retrying the same call cannot help. At start it is a
 * ConfigError; at run time the records go to the next tier, and the error is
 * logged once per target with `fix`.
 */
export class UnauthorizedError extends SpillwayError {
  static readonly code = 'spillway:unauthorized';
  /** What to change so the target takes writes (a permission to grant, credentials to renew). */
  readonly fix: string;
  constructor(message: string, options: SpillwayErrorOptions & { fix: string }) {
    super(UnauthorizedError.code, message, false, options);
    this.fix = options.fix;
  }
}

/** True for an {@link UnauthorizedError}, across package copies. */
export function isUnauthorizedError(value: unknown): value is UnauthorizedError {
  return isSpillwayError(value) && value.code === UnauthorizedError.code;
}
