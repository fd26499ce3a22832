/**
 * One error classifier for every AWS service spillway talks to. Raw SDK and
 * network errors never leave an adapter: they become a ThrottledError,
 * TransientError, UnauthorizedError, TargetRejectedError or ValidationError, with the original
 * kept as `cause`. Built on smithy's own classification (the SDK's retry
 * decisions), so spillway and the SDK agree on what is throttling.
 */
import { authorizationFix, isAuthorizationFailure } from './authorization.js';
import { isServerError, isThrottlingError, isTransientError } from '@smithy/core/retry';
import {
  type ErrorContext,
  isSpillwayError,
  type SpillwayError,
  TargetRejectedError,
  UnauthorizedError,
  ThrottledError,
  TransientError,
  ValidationError,
} from '../../src/errors/index.js';

/** Error names that mean "this target will not take writes until someone fixes it". */
const REJECTED = new Set([
  'ResourceNotFoundException',
  'KMSDisabledException',
  'KMSInvalidStateException',
  'KMSAccessDeniedException',
  'KMSNotFoundException',
  'KMSOptInRequired',
  'QueueDoesNotExist',
  'AWS.SimpleQueueService.NonExistentQueue',
]);

/** Error names that mean "this request is malformed everywhere". */
const INVALID = new Set(['ValidationException', 'InvalidArgumentException', 'SerializationException']);

/** Network failures where the request never reached the service: nothing can have been applied. */
const NOT_SENT_CODES = new Set(['ECONNREFUSED', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EAI_AGAIN']);
/** Network failures after the request may have been sent: it may have been applied. */
const MAYBE_SENT_CODES = new Set(['ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'ECONNABORTED', 'ERR_STREAM_PREMATURE_CLOSE', 'UND_ERR_SOCKET']);

interface SdkLikeError {
  name?: string;
  code?: string;
  message?: string;
  $metadata?: { httpStatusCode?: number };
  $retryable?: unknown;
}

/**
 * Classify any error thrown by an AWS SDK call (or the network under it).
 * `answered`: the error is a failed entry of a batch call that was answered,
 * so nothing about it can have been applied (never ambiguous).
 */
export function classifyAwsError(error: unknown, context: ErrorContext, answered = false): SpillwayError {
  if (isSpillwayError(error)) return error;
  const e = (typeof error === 'object' && error !== null ? error : { message: String(error) }) as SdkLikeError;
  const name = e.name ?? e.code ?? 'Error';
  const where = context.target ?? 'target';
  const options = { ...context, cause: error };
  if (name === 'AbortError' || name === 'TimeoutError') {
    return new TransientError(`${where} did not answer in time (${e.message ?? name})`, { ...options, ambiguous: !answered });
  }
  if (isThrottlingError(error as never)) {
    return new ThrottledError(`${where} is throttling writes (${name}); backing off on the same target`, options);
  }
  if (isAuthorizationFailure(name)) {
    const fix = authorizationFix(name, where);
    return new UnauthorizedError(`${where} refused spillway's credentials: ${name}: ${e.message ?? ''}; ${fix}`, { ...options, fix });
  }
  if (REJECTED.has(name)) {
    return new TargetRejectedError(`${where} rejected the request: ${name}: ${e.message ?? ''}`.trim(), options);
  }
  if (INVALID.has(name)) {
    return new ValidationError(`${where} says the request is invalid: ${name}: ${e.message ?? ''}`.trim(), options);
  }
  if (NOT_SENT_CODES.has(e.code ?? '')) {
    return new TransientError(`${where} is unreachable: ${e.code}: ${e.message ?? ''}`.trim(), options);
  }
  const status = e.$metadata?.httpStatusCode;
  if (isTransientError(error as never) || isServerError(error as never) || MAYBE_SENT_CODES.has(e.code ?? '') || (status !== undefined && status >= 500)) {
    return new TransientError(`${where} is unavailable: ${name}: ${e.message ?? ''}`.trim(), { ...options, ambiguous: !answered });
  }
  // Unknown errors are treated as outages (failing over is safe, dropping is not), and as possibly applied.
  return new TransientError(`${where} failed: ${name}: ${e.message ?? ''}`.trim(), { ...options, ambiguous: !answered });
}

/** Classify one failed entry of a batch call (Kinesis PutRecords `ErrorCode`, and the like). */
export function classifyEntryError(code: string, message: string | undefined, context: ErrorContext): SpillwayError {
  const synthetic = { name: code, message: message ?? code, $metadata: {} };
  return classifyAwsError(synthetic, context, true);
}
