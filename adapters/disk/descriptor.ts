/**
 * The disk spool kind: a directory of fsync'd segment files, the usual last
 * tier of the chain. Exports one descriptor; the registry lists it.
 */
import { z } from 'zod';
import type { Spool, SpoolContext, SpoolDescriptor } from '../../src/contracts/index.js';
import { cipherFor, spoolEncryptionSchema } from '../../src/crypto/encryption-config.js';
import { createDiskSpool } from './disk-spool.js';

/** `{ kind: 'disk', dir, maxBytes?, maxSegmentBytes?, whenFull?, blockTimeoutMs?, encryption? }` */
export const diskSpoolSchema = z
  .object({
    kind: z.literal('disk'),
    dir: z.string({ error: 'dir is required: a directory for the spool files' }).min(1, { error: 'dir is required: a directory for the spool files' }),
    maxBytes: z.number().int().positive().optional(),
    maxSegmentBytes: z.number().int().positive().optional(),
    /** Full spool: `reject` (default) fails the send at once, `block` waits for room up to `blockTimeoutMs`. */
    whenFull: z.enum(['block', 'reject'], { error: 'whenFull must be "reject" (fail the send at once) or "block" (wait for room)' }).optional(),
    blockTimeoutMs: z.number().int().nonnegative().optional(),
    /** Encrypt records at rest (AES-256-GCM). */
    encryption: spoolEncryptionSchema.optional(),
  })
  .strict();

/** One disk spool's configuration. */
export type DiskSpoolConfig = z.output<typeof diskSpoolSchema>;

async function open(config: DiskSpoolConfig, context: SpoolContext): Promise<Spool> {
  const cipher = context.cipher ?? cipherFor(config.encryption, context.field, `disk:${config.dir}`);
  return createDiskSpool({
    dir: config.dir,
    ...(config.maxBytes === undefined ? {} : { maxBytes: config.maxBytes }),
    ...(config.maxSegmentBytes === undefined ? {} : { maxSegmentBytes: config.maxSegmentBytes }),
    ...(config.whenFull === undefined ? {} : { whenFull: config.whenFull }),
    ...(config.blockTimeoutMs === undefined ? {} : { blockTimeoutMs: config.blockTimeoutMs }),
    ...(cipher ? { cipher } : {}),
    ...(context.emit ? { onEvent: context.emit } : {}),
    logger: context.logger,
    onRecovered: (info) => context.logger.info({ spool: config.dir, field: context.field, ...info }, 'Disk spool reopened with records from an earlier run; they will be drained.'),
  });
}

/** The disk spool descriptor. */
export const diskSpoolDescriptor: SpoolDescriptor<DiskSpoolConfig> = {
  kind: 'disk',
  schema: diskSpoolSchema,
  open,
  remote: false,
  describe: (config) => `disk ${config.dir}`,
};
