/** The `redis` spool kind: its configuration schema and its factory. */
import { z } from 'zod';
import type { SpoolDescriptor } from '../../src/contracts/descriptor.js';
import type { Spool } from '../../src/contracts/spool.js';
import { redact, redisAddress } from './redis-connection.js';
import { KEY_PREFIX_PATTERN, spoolKeys } from './redis-keys.js';
import { createRedisSpool } from './redis-spool.js';

const ms = z.number().int().nonnegative();

/** Configuration of a Redis spool. */
export const redisSpoolSchema = z
  .object({
    kind: z.literal('redis'),
    url: z
      .string({ error: 'url is required, e.g. "redis://localhost:6379" or "rediss://user:password@host:6380"' })
      .regex(/^rediss?:\/\/.+/, { error: (issue) => `"${redact(String(issue.input))}" is not a Redis url; use one like "redis://localhost:6379" (rediss:// for TLS)` }),
    keyPrefix: z
      .string()
      .regex(KEY_PREFIX_PATTERN, { error: 'keyPrefix must be 1-200 letters, digits or _ . : / - (no braces: it becomes the hash tag)' })
      .optional(),
    durability: z.enum(['write', 'aof', 'replicas'], { error: "durability must be 'write', 'aof' or 'replicas'" }).optional(),
    minReplicas: z.number().int().positive().optional(),
    waitTimeoutMs: z.number().int().positive().optional(),
    commandTimeoutMs: z.number().int().positive().optional(),
    connectTimeoutMs: z.number().int().positive().optional(),
    maxBytes: z.number().int().positive().optional(),
    consumer: z.string().min(1).optional(),
    claimIdleMs: ms.optional(),
    claimEveryMs: ms.optional(),
    cluster: z.boolean().optional(),
    tls: z
      .union([z.boolean(), z.object({ ca: z.string().optional(), servername: z.string().optional(), rejectUnauthorized: z.boolean().optional() }).strict()])
      .optional(),
  })
  .strict();

/** A Redis spool's configuration, as the schema accepts it. */
export type RedisSpoolConfig = z.infer<typeof redisSpoolSchema>;

/** The `redis` spool kind for the registry. A remote spool: a disk spool after it catches what it cannot take. */
export const redisSpoolDescriptor: SpoolDescriptor<RedisSpoolConfig> = {
  kind: 'redis',
  schema: redisSpoolSchema,
  remote: true,
  open(config, context): Promise<Spool> {
    const { kind: _kind, ...options } = config;
    return createRedisSpool(
      {
        ...options,
        logger: context.logger,
        ...(context.cipher === undefined ? {} : { cipher: context.cipher }),
        ...(context.emit === undefined ? {} : { onEvent: context.emit }),
      },
      context.field,
    );
  },
  describe(config) {
    const { host, port } = redisAddress(config.url);
    return `redis ${host}:${port}/${spoolKeys(config.keyPrefix ?? 'spillway').stream}`;
  },
};
