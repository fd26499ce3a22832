import { describe, expect, it } from 'vitest';
import { classifyAwsError, classifyEntryError } from '../../adapters/aws/classify.js';
import { isAmbiguousFailure, TargetRejectedError, ThrottledError, TransientError, UnauthorizedError, ValidationError } from '../../src/errors/index.js';

const ctx = { target: 'kinesis:us-east-1:orders', region: 'us-east-1', stream: 'orders' };
const sdk = (name: string, status?: number) => Object.assign(new Error(`${name} happened`), { name, $metadata: { httpStatusCode: status } });
const net = (code: string) => Object.assign(new Error(`connect ${code}`), { code });

describe('classifyAwsError', () => {
  it.each([
    ['throttling', sdk('ProvisionedThroughputExceededException', 400), ThrottledError, false],
    ['a missing stream', sdk('ResourceNotFoundException', 400), TargetRejectedError, false],
    ['bad credentials', sdk('UnrecognizedClientException', 400), UnauthorizedError, false],
    ['an invalid request', sdk('InvalidArgumentException', 400), ValidationError, false],
    ['a refused connection (never sent)', net('ECONNREFUSED'), TransientError, false],
    ['an unknown host (never sent)', net('ENOTFOUND'), TransientError, false],
    ['a reset connection (maybe applied)', net('ECONNRESET'), TransientError, true],
    ['a timeout (maybe applied)', Object.assign(new Error('aborted'), { name: 'AbortError' }), TransientError, true],
    ['an internal failure (maybe applied)', sdk('InternalFailure', 500), TransientError, true],
    ['something unknown (treated as maybe applied)', new Error('weird'), TransientError, true],
  ])('classifies %s', (_what, raw, type, ambiguous) => {
    const error = classifyAwsError(raw, ctx);
    expect(error).toBeInstanceOf(type);
    expect(error.cause).toBe(raw);
    expect(error.target).toBe(ctx.target);
    expect(isAmbiguousFailure(error)).toBe(ambiguous);
  });

  it('never calls a failed entry of an answered PutRecords ambiguous', () => {
    const internal = classifyEntryError('InternalFailure', 'Internal service failure.', ctx);
    expect(internal).toBeInstanceOf(TransientError);
    expect(isAmbiguousFailure(internal)).toBe(false);
    expect(classifyEntryError('ProvisionedThroughputExceededException', 'Rate exceeded', ctx)).toBeInstanceOf(ThrottledError);
  });
});
