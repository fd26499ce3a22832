export { SpillwayError, isSpillwayError, hasCode, type ErrorContext, type SpillwayErrorOptions } from './base.js';
export {
  ThrottledError,
  TransientError,
  isAmbiguousFailure,
  TargetRejectedError,
  ClosedError,
  AllTiersFailedError,
  type TierFailure,
} from './transport.js';
export { ValidationError, RecordTooLargeError, MalformedEnvelopeError, isValidationError } from './validation.js';
export { SpoolFullError, SpoolCorruptError, SpoolKeyMismatchError, type SpoolFullReason, type SpoolFullErrorOptions, type SpoolCorruptErrorOptions } from './spool.js';
export { ConfigError } from './config.js';
export { UnauthorizedError, isUnauthorizedError } from './authorization.js';
