/**
 * The Kinesis tier kind: a stream in one region as a primary or secondary
 * tier. Exports one descriptor; the registry (`adapters/registry.ts`) lists it.
 */
import type { DrainSource, RemoteTier, TargetDescriptor, TierContext } from '../../src/contracts/index.js';
import { KINESIS_MAX_RECORD_BYTES } from '../../src/envelope/index.js';
import { checkAwsTier } from '../aws/tier-check.js';
import { createKinesisTarget, type KinesisTarget } from './kinesis-target.js';
import { kinesisTierSchema, type KinesisTierConfig } from './schema.js';
import { createKinesisDrainSources, findIdsSince } from './shard-source.js';

export { kinesisTierSchema, type KinesisTierConfig } from './schema.js';

/**
 * A Kinesis tier. Besides the contract it can search the stream for ids
 * written since a time (`findWritten`), which the bus uses to settle primary
 * writes of unknown fate.
 */
export interface KinesisTier extends RemoteTier {
  readonly target: KinesisTarget;
  findWritten(ids: ReadonlySet<string>, sinceMs: number, signal: AbortSignal): Promise<string[]>;
}

function describe(config: KinesisTierConfig): string {
  return `kinesis ${config.region}/${config.stream}`;
}

function create(config: KinesisTierConfig, context: TierContext): KinesisTier {
  const target = createKinesisTarget({
    region: config.region,
    stream: config.stream,
    ...(config.endpoint ? { endpoint: config.endpoint } : {}),
    ...(config.credentials ? { credentials: config.credentials } : {}),
    ...(config.requestTimeoutMs ? { requestTimeoutMs: config.requestTimeoutMs } : {}),
  });
  const where = { client: target.client, region: config.region, stream: config.stream };
  return {
    target,
    async drainSources(): Promise<DrainSource[]> {
      return createKinesisDrainSources({ ...where, checkpoints: context.checkpoints });
    },
    findWritten: (ids, sinceMs, signal) => findIdsSince({ ...where, sinceMs, ids, signal }),
    check: (signal) =>
      checkAwsTier(
        {
          field: context.field,
          label: describe(config),
          target: target.id,
          region: config.region,
          resource: { field: 'stream', noun: 'stream', name: config.stream },
          ...(config.credentials ? {} : { credentials: target.client.config.credentials }),
          notFound: ['ResourceNotFoundException'],
          async probe(probeSignal) {
            await target.probe(probeSignal); // DescribeStreamSummary; resolves only for an ACTIVE or UPDATING stream
            return `stream "${config.stream}" is active`;
          },
        },
        signal,
      ),
  };
}

/** The Kinesis descriptor: schema, factory, probe. */
export const kinesisDescriptor: TargetDescriptor<KinesisTierConfig> = {
  kind: 'kinesis',
  schema: kinesisTierSchema,
  maxRecordBytes: KINESIS_MAX_RECORD_BYTES,
  create,
  describe,
};
