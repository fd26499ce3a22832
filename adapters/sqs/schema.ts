/**
 * Configuration of the SQS tier, and the connection fields every AWS queue
 * or bus tier shares (region, endpoint, credentials), as zod schemas.
 */
import { z } from 'zod';

const REGION = /^[a-z]{2}(-[a-z]+)+-\d{1,2}$/;

/** An AWS region name such as `us-east-1`. */
export const regionSchema = z
  .string({ error: 'region is required, e.g. "us-east-1"' })
  .regex(REGION, { error: (issue) => `"${String(issue.input)}" is not an AWS region name; use one like "us-east-1"` });

/** An endpoint override (LocalStack, an emulator). */
export const endpointSchema = z.url({ protocol: /^https?$/, error: 'endpoint must be an http(s) URL such as "http://localhost:4566"' });

/** Static credentials; not strict, since the SDK tags credential objects it has seen with extra fields. */
export const credentialsSchema = z.object({ accessKeyId: z.string().min(1), secretAccessKey: z.string().min(1), sessionToken: z.string().optional() });

/** An SQS queue URL: `https://sqs.<region>.amazonaws.com/<account>/<name>` or an emulator's. */
export const queueUrlSchema = z
  .string({ error: 'queueUrl is required: the URL of the SQS queue, e.g. "https://sqs.us-west-2.amazonaws.com/123456789012/orders"' })
  .refine((value) => queueNameOf(value) !== undefined, {
    error: (issue) => `"${String(issue.input)}" is not an SQS queue URL; copy the URL from the console or "aws sqs get-queue-url"`,
  });

/** The last path segment of a queue URL (its name), when it is one. */
export function queueNameOf(queueUrl: string): string | undefined {
  let url: URL;
  try {
    url = new URL(queueUrl);
  } catch {
    return undefined;
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return undefined;
  const name = url.pathname.split('/').filter(Boolean).at(-1);
  return name !== undefined && /^[a-zA-Z0-9_-]{1,75}(\.fifo)?$/.test(name) ? name : undefined;
}

/** True for a FIFO queue (its name ends in `.fifo`). */
export function isFifoQueueUrl(queueUrl: string): boolean {
  return (queueNameOf(queueUrl) ?? '').endsWith('.fifo');
}

/** Drain tuning shared by every queue a reconciler reads. */
export const drainTuningSchema = {
  /** How long a received message stays hidden while spillway works on it; extended while in flight (default 30). */
  visibilityTimeoutSeconds: z.number().int().min(1).max(43_200).optional(),
  /** Long-poll wait of the first receive of each drain chunk (default 1; 0 to 20). */
  waitTimeSeconds: z.number().int().min(0).max(20).optional(),
  /** Most messages read into one drain chunk, and so sorted together (default 1000). */
  maxChunkMessages: z.number().int().min(1).max(100_000).optional(),
};

/** An SQS queue as a remote tier. */
export const sqsTierSchema = z
  .object({
    kind: z.literal('sqs'),
    region: regionSchema,
    queueUrl: queueUrlSchema,
    endpoint: endpointSchema.optional(),
    credentials: credentialsSchema.optional(),
    /** Abort a call that has not answered after this long (default 2000 ms). */
    requestTimeoutMs: z.number().int().positive().optional(),
    ...drainTuningSchema,
  })
  .strict();

/** The SQS tier's configuration. */
export type SqsTierConfig = z.infer<typeof sqsTierSchema>;
