/** The configuration of a Kinesis tier: a stream in one region. */
import { z } from 'zod';
import { awsConnectionShape } from '../aws/fields.js';

/** `{ kind: 'kinesis', region, stream, endpoint?, credentials?, requestTimeoutMs? }` */
export const kinesisTierSchema = z
  .object({
    kind: z.literal('kinesis'),
    ...awsConnectionShape(),
    stream: z
      .string({ error: 'stream is required: the Kinesis stream name' })
      .regex(/^[a-zA-Z0-9_.-]{1,128}$/, { error: 'stream must be 1-128 characters of letters, digits, "_", "-" or "."' }),
  })
  .strict();

/** One Kinesis tier's configuration. */
export type KinesisTierConfig = z.output<typeof kinesisTierSchema>;
