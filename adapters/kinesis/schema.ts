/** The configuration of a Kinesis tier: a stream in one region. */
import { z } from 'zod';
import { awsConnectionShape } from '../aws/fields.js';

/** `{ kind: 'kinesis', region, stream, endpoint?, credentials?, requestTimeoutMs?, aggregate? }` */
export const kinesisTierSchema = z
  .object({
    kind: z.literal('kinesis'),
    ...awsConnectionShape(),
    stream: z
      .string({ error: 'stream is required: the Kinesis stream name' })
      .regex(/^[a-zA-Z0-9_.-]{1,128}$/, { error: 'stream must be 1-128 characters of letters, digits, "_", "-" or "."' }),
    /**
     * Pack small records into KPL aggregates, one per shard and call (default
     * false): many more records per call and per shard's record limit. Readers
     * must de-aggregate (spillway's consumer and any KCL consumer do).
     */
    aggregate: z
      .union([
        z.boolean(),
        z
          .object({
            maxAggregateBytes: z
              .number()
              .int()
              .min(1_024, { error: 'aggregate.maxAggregateBytes must be 1024 to 1000000 (an aggregate is one Kinesis record, at most 1 MiB)' })
              .max(1_000_000, { error: 'aggregate.maxAggregateBytes must be 1024 to 1000000 (an aggregate is one Kinesis record, at most 1 MiB)' })
              .optional(),
          })
          .strict(),
      ])
      .optional(),
  })
  .strict();

/** One Kinesis tier's configuration. */
export type KinesisTierConfig = z.output<typeof kinesisTierSchema>;
