/** The AWS pieces every registered AWS kind shares: region fields, authorization classification, the credential check. */
import { describe, expect, it } from 'vitest';
import { classifyAwsError, classifyEntryError } from '../../adapters/aws/classify.js';
import { checkCredentials, describeProviderChain } from '../../adapters/aws/credentials.js';
import { awsRegionField } from '../../adapters/aws/fields.js';
import { ALL_AWS_REGIONS } from '../../adapters/aws/regions.js';
import { ConfigError, TargetRejectedError, UnauthorizedError } from '../../src/errors/index.js';

const sdk = (name: string) => Object.assign(new Error(`${name} happened`), { name, $metadata: { httpStatusCode: 400 } });

describe('AWS authorization failures', () => {
  it.each([
    ['AccessDeniedException', 'kinesis:us-east-1:orders', /grant this identity kinesis:PutRecords, kinesis:DescribeStreamSummary/],
    ['AccessDenied', 'sqs:eu-west-1:orders', /grant this identity sqs:SendMessage/],
    ['AccessDeniedException', 'eventbridge:us-east-2:orders', /grant this identity events:PutEvents/],
    ['UnrecognizedClientException', 'kinesis:us-east-1:orders', /access key is not known to AWS/],
    ['ExpiredTokenException', 'kinesis:us-east-1:orders', /session token has expired: renew/],
    ['CredentialsProviderError', 'kinesis:us-east-1:orders', /no credentials could be resolved/],
  ])('%s on %s is an UnauthorizedError with the fix', (name, target, fix) => {
    const error = classifyAwsError(sdk(name), { target });
    expect(error).toBeInstanceOf(UnauthorizedError);
    expect(error.retryable).toBe(false);
    expect((error as UnauthorizedError).fix).toMatch(fix);
    expect(error.message).toContain(target);
  });

  it('classifies a refused entry of a batch the same way, and a missing stream as rejected, not unauthorized', () => {
    expect(classifyEntryError('AccessDeniedException', 'no', { target: 'kinesis:us-east-1:o' })).toBeInstanceOf(UnauthorizedError);
    expect(classifyAwsError(sdk('ResourceNotFoundException'), { target: 'kinesis:us-east-1:o' })).toBeInstanceOf(TargetRejectedError);
  });
});

describe('credential check', () => {
  it('gives up on a provider that never answers (an instance-metadata lookup off AWS) with a ConfigError naming the tier', async () => {
    const error = await checkCredentials({ provider: () => new Promise(() => undefined), field: 'primary', label: 'kinesis us-east-1/orders', timeoutMs: 50, env: {} }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).field).toBe('primary.credentials');
    expect((error as Error).message).toMatch(/primary \(kinesis us-east-1\/orders\): no AWS credentials could be resolved \(the chain did not answer within 50 ms\)/);
  });

  it('resolves for a provider that yields a key, and never prints what it yields', async () => {
    await expect(checkCredentials({ provider: async () => ({ accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'not-printed' }), field: 'primary', label: 'x' })).resolves.toBeUndefined();
    const error = await checkCredentials({ provider: async () => Promise.reject(new Error('Could not load credentials from any providers')), field: 'secondaries.1', label: 'x', env: { AWS_PROFILE: 'prod', HOME: '/home/app' } }).catch((e: unknown) => e);
    expect((error as Error).message).toMatch(/profile "prod" in \/home\/app\/\.aws\/credentials/);
    expect(describeProviderChain({ AWS_SECRET_ACCESS_KEY: 'sekrit' })).not.toContain('sekrit');
  });
});

describe('region list', () => {
  it('holds every partition once and accepts each name', () => {
    expect(new Set(ALL_AWS_REGIONS).size).toBe(ALL_AWS_REGIONS.length);
    expect(ALL_AWS_REGIONS).toEqual(expect.arrayContaining(['us-east-1', 'us-gov-west-1', 'cn-northwest-1', 'eu-central-2']));
    for (const region of ALL_AWS_REGIONS) expect(awsRegionField().safeParse(region).success).toBe(true);
    expect(awsRegionField().safeParse('us-east-9').success).toBe(false);
  });
});
