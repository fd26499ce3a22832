/**
 * The SQS tier: a queue that holds records while the primary is down, drained
 * back by the reconciler. See docs/tiers-sqs-eventbridge.md for the encoding,
 * the limits and what order a drain keeps.
 */
import type { RemoteTier, TargetDescriptor, TierContext } from '../../src/contracts/index.js';
import { bodyToEnvelope, SQS_MAX_RECORD_BYTES } from './body.js';
import { checkQueue } from './check.js';
import { createQueueDrainSource } from './queue-source.js';
import { type SqsTierConfig, queueNameOf, sqsTierSchema } from './schema.js';
import { createSqsClient, createSqsTarget } from './sqs-target.js';

/** The `sqs` tier kind, for the registry. */
export const sqsDescriptor: TargetDescriptor<SqsTierConfig> = {
  kind: 'sqs',
  schema: sqsTierSchema,
  maxRecordBytes: SQS_MAX_RECORD_BYTES,
  create: createSqsTier,
  describe: (config) => `sqs ${config.region}/${queueNameOf(config.queueUrl) ?? config.queueUrl}${config.queueUrl.endsWith('.fifo') ? ' (FIFO)' : ''}`,
};

/** Build an SQS tier from its configuration; makes no network call. */
export function createSqsTier(config: SqsTierConfig, context: TierContext): RemoteTier {
  const connection = { region: config.region, ...(config.endpoint ? { endpoint: config.endpoint } : {}), ...(config.credentials ? { credentials: config.credentials } : {}) };
  const client = createSqsClient(connection);
  const target = createSqsTarget({ ...connection, queueUrl: config.queueUrl, client, ...(config.requestTimeoutMs ? { requestTimeoutMs: config.requestTimeoutMs } : {}) });
  const close = target.close;
  return {
    target: { ...target, close: async () => (await close(), client.destroy()) },
    async drainSources() {
      return [
        createQueueDrainSource({
          client,
          queueUrl: config.queueUrl,
          id: target.id,
          region: config.region,
          decode: bodyToEnvelope,
          logger: context.logger,
          ...drainTuning(config),
        }),
      ];
    },
    check: (signal) => checkQueue({ client, queueUrl: config.queueUrl, field: `${context.field}.queueUrl`, id: target.id, region: config.region, signal }),
  };
}

/** The drain tuning fields present in a queue configuration. */
export function drainTuning(config: { visibilityTimeoutSeconds?: number; waitTimeSeconds?: number; maxChunkMessages?: number }): {
  visibilityTimeoutSeconds?: number;
  waitTimeSeconds?: number;
  maxChunkMessages?: number;
} {
  return {
    ...(config.visibilityTimeoutSeconds === undefined ? {} : { visibilityTimeoutSeconds: config.visibilityTimeoutSeconds }),
    ...(config.waitTimeSeconds === undefined ? {} : { waitTimeSeconds: config.waitTimeSeconds }),
    ...(config.maxChunkMessages === undefined ? {} : { maxChunkMessages: config.maxChunkMessages }),
  };
}

export { sqsTierSchema, type SqsTierConfig } from './schema.js';
export { createSqsTarget, createSqsClient, sqsTargetId, type SqsTarget, type SqsTargetOptions } from './sqs-target.js';
export { createQueueDrainSource, type QueueDrainOptions, type BodyDecoder } from './queue-source.js';
export { checkQueue } from './check.js';
export { SQS_MAX_RECORD_BYTES, SQS_MAX_CALL_BYTES, SQS_MAX_BATCH_ENTRIES, envelopeToBody, bodyToEnvelope, messageGroupIdFor } from './body.js';
