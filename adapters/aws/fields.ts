/**
 * Zod field builders every AWS tier kind shares (Kinesis, SQS, EventBridge):
 * a region checked against the one region list, with the closest name
 * suggested; an http(s) endpoint override; static credentials.
 */
import { z } from 'zod';
import { didYouMean } from '../../src/config/suggest.js';
import { ALL_AWS_REGIONS, isAwsRegion } from './regions.js';

/** The message for a region that is not in the region list. */
export function unknownRegionMessage(value: string): string {
  const hint = didYouMean(value, ALL_AWS_REGIONS);
  return `"${value}" is not a known AWS region; ${hint || 'use one like "us-east-1"'} (known regions: adapters/aws/regions.ts)`;
}

/** An AWS region name from the region list. */
export function awsRegionField() {
  return z
    .string({ error: 'region is required, e.g. "us-east-1"' })
    .refine(isAwsRegion, { error: (issue) => unknownRegionMessage(String(issue.input)) });
}

/** An endpoint override, for LocalStack or an emulator (plain http is fine). */
export function awsEndpointField() {
  return z.url({ protocol: /^https?$/, error: 'endpoint must be an http(s) URL such as "http://localhost:4566"' });
}

/**
 * Static credentials from code. Not strict: the SDK tags credential objects it
 * has seen with extra fields; those are dropped here. The values are never
 * echoed in an error message.
 */
export function awsCredentialsField() {
  return z.object({
    accessKeyId: z.string({ error: 'credentials.accessKeyId is required when credentials are given' }).min(1),
    secretAccessKey: z.string({ error: 'credentials.secretAccessKey is required when credentials are given' }).min(1),
    sessionToken: z.string().optional(),
  });
}

/** The connection fields of every AWS tier: `region`, `endpoint?`, `credentials?`, `requestTimeoutMs?`. */
export function awsConnectionShape() {
  return {
    region: awsRegionField(),
    endpoint: awsEndpointField().optional(),
    credentials: awsCredentialsField().optional(),
    requestTimeoutMs: z.number().int().positive().optional(),
  };
}
