/**
 * The disk spool kind: a directory of fsync'd segment files, the usual last
 * tier of the chain. Exports one descriptor; the registry lists it.
 */
import { z } from 'zod';
import type { Spool, SpoolContext, SpoolDescriptor } from '../../src/contracts/index.js';
import { createDiskSpool } from './disk-spool.js';

/** `{ kind: 'disk', dir, maxBytes?, maxSegmentBytes? }` */
export const diskSpoolSchema = z
  .object({
    kind: z.literal('disk'),
    dir: z.string({ error: 'dir is required: a directory for the spool files' }).min(1, { error: 'dir is required: a directory for the spool files' }),
    maxBytes: z.number().int().positive().optional(),
    maxSegmentBytes: z.number().int().positive().optional(),
  })
  .strict();

/** One disk spool's configuration. */
export type DiskSpoolConfig = z.output<typeof diskSpoolSchema>;

async function open(config: DiskSpoolConfig, context: SpoolContext): Promise<Spool> {
  return createDiskSpool({
    dir: config.dir,
    ...(config.maxBytes === undefined ? {} : { maxBytes: config.maxBytes }),
    ...(config.maxSegmentBytes === undefined ? {} : { maxSegmentBytes: config.maxSegmentBytes }),
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
