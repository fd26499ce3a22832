/**
 * The Kinesis tier kind: a stream in one region as a primary or secondary
 * tier. Exports one descriptor; the registry (`adapters/registry.ts`) lists it.
 */
import type { DrainSource, RemoteTier, TargetDescriptor, TierContext } from '../../src/contracts/index.js';
import { KINESIS_MAX_RECORD_BYTES } from '../../src/envelope/index.js';
import { ConfigError } from '../../src/errors/index.js';
import { checkAwsTier } from '../aws/tier-check.js';
import type { KinesisClient } from '@aws-sdk/client-kinesis';
import { createKinesisTarget, type KinesisTarget } from './kinesis-target.js';
import { kinesisTierSchema, type KinesisTierConfig } from './schema.js';
import { RawWriteIndex } from './raw-write-index.js';
import { createKinesisDrainSources, findIdsSince, scanStreamSince } from './shard-source.js';

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

/** Options of {@link createKinesisTier} that are not configuration. */
export interface KinesisTierOptions {
  /** Send through this client (the drop-in client passes itself, so its middleware applies). */
  client?: KinesisClient;
}

/**
 * Build a Kinesis tier. With `context.wire === 'none'` the stream receives
 * the producer's bytes as they are, and writes of unknown fate are found by
 * content (see raw-write-index.ts).
 */
export function createKinesisTier(config: KinesisTierConfig, context: TierContext, options: KinesisTierOptions = {}): KinesisTier {
  const wire = context.role === 'primary' ? (context.wire ?? 'spillway') : 'spillway';
  if (config.aggregate && wire === 'none') {
    throw new ConfigError(`${context.field}.aggregate cannot be used with envelope: 'none' (the stream then receives the producer's exact bytes); remove one of the two`, {
      field: `${context.field}.aggregate`,
    });
  }
  const target = createKinesisTarget({
    region: config.region,
    stream: config.stream,
    wire,
    omitProducer: context.role === 'primary',
    ...(options.client ? { client: options.client } : {}),
    ...(config.endpoint ? { endpoint: config.endpoint } : {}),
    ...(config.credentials ? { credentials: config.credentials } : {}),
    ...(config.requestTimeoutMs ? { requestTimeoutMs: config.requestTimeoutMs } : {}),
    ...(config.aggregate ? { aggregate: config.aggregate } : {}),
  });
  const where = { client: target.client, region: config.region, stream: config.stream };
  const raw = wire === 'none' ? new RawWriteIndex() : undefined;
  return {
    target: raw ? noting(target, raw) : target,
    async drainSources(): Promise<DrainSource[]> {
      // Read lazily: the producer id is set once the bus has opened its state.
      const mine = context.orphans ? { checkpointPrefix: 'orphans:' } : context.producer ? { producer: context.producer } : {};
      return createKinesisDrainSources({ ...where, checkpoints: context.checkpoints, logger: context.logger, ...mine });
    },
    findWritten: raw
      ? (ids, sinceMs, signal) => scanStreamSince({ ...where, sinceMs, signal, match: raw.matcherFor(ids) })
      : (ids, sinceMs, signal) => findIdsSince({ ...where, sinceMs, ids, signal }),
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
  create: (config, context) => createKinesisTier(config, context),
  describe,
};

/** A raw-mode primary that notes each record's fingerprint before sending it (see RawWriteIndex). */
function noting(target: KinesisTarget, index: RawWriteIndex): KinesisTarget {
  return {
    ...target,
    put(batch, signal) {
      index.note(batch);
      return target.put(batch, signal);
    },
  };
}
