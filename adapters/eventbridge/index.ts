/**
 * The EventBridge tier: records are put on a bus while the primary is down.
 * EventBridge cannot be read back, so the tier names the SQS queue a rule on
 * the bus delivers spillway's events to (`drainQueue`), and the reconciler
 * drains that queue. See docs/tiers-sqs-eventbridge.md.
 */
import type { RemoteTier, TargetDescriptor, TierContext } from '../../src/contracts/index.js';
import { drainTuning } from '../sqs/index.js';
import { createQueueDrainSource } from '../sqs/queue-source.js';
import { queueNameOf } from '../sqs/schema.js';
import { createSqsClient } from '../sqs/sqs-target.js';
import { checkEventBridgeTier } from './check.js';
import { EVENTBRIDGE_MAX_RECORD_BYTES, eventToEnvelope } from './detail.js';
import { createEventBridgeTarget } from './eventbridge-target.js';
import { busNameOf, type EventBridgeTierConfig, eventBridgeTierSchema } from './schema.js';

/** The `eventbridge` tier kind, for the registry. */
export const eventBridgeDescriptor: TargetDescriptor<EventBridgeTierConfig> = {
  kind: 'eventbridge',
  schema: eventBridgeTierSchema,
  maxRecordBytes: EVENTBRIDGE_MAX_RECORD_BYTES,
  create: createEventBridgeTier,
  describe: (config) => `eventbridge ${config.region}/${busNameOf(config.eventBusName)} (drained from ${queueNameOf(config.drainQueue.queueUrl) ?? config.drainQueue.queueUrl})`,
};

/** Build an EventBridge tier from its configuration; makes no network call. */
export function createEventBridgeTier(config: EventBridgeTierConfig, context: TierContext): RemoteTier {
  const credentials = config.credentials ? { credentials: config.credentials } : {};
  const target = createEventBridgeTarget({
    region: config.region,
    eventBusName: config.eventBusName,
    ...(config.endpoint ? { endpoint: config.endpoint } : {}),
    ...credentials,
    ...(config.source ? { source: config.source } : {}),
    ...(config.detailType ? { detailType: config.detailType } : {}),
    ...(config.requestTimeoutMs ? { requestTimeoutMs: config.requestTimeoutMs } : {}),
  });
  const drainClient = createSqsClient({ region: config.region, ...(config.drainQueue.endpoint ? { endpoint: config.drainQueue.endpoint } : {}), ...credentials });
  const drainId = `${target.id}/${queueNameOf(config.drainQueue.queueUrl) ?? 'drain'}`;
  const close = target.close;
  return {
    target: { ...target, close: async () => (await close(), drainClient.destroy()) },
    async drainSources() {
      return [
        createQueueDrainSource({
          client: drainClient,
          queueUrl: config.drainQueue.queueUrl,
          id: drainId,
          region: config.region,
          decode: eventToEnvelope,
          logger: context.logger,
          ...drainTuning(config.drainQueue),
        }),
      ];
    },
    check: (signal) =>
      checkEventBridgeTier({ client: target.client, eventBusName: config.eventBusName, drainClient, drainQueueUrl: config.drainQueue.queueUrl, field: context.field, id: target.id, region: config.region, signal }),
  };
}

export { eventBridgeTierSchema, type EventBridgeTierConfig } from './schema.js';
export { createEventBridgeTarget, eventBridgeTargetId, DEFAULT_SOURCE, DEFAULT_DETAIL_TYPE, type EventBridgeTarget, type EventBridgeTargetOptions } from './eventbridge-target.js';
export { EVENTBRIDGE_MAX_RECORD_BYTES, EVENTBRIDGE_MAX_CALL_BYTES, EVENTBRIDGE_MAX_BATCH_ENTRIES, envelopeToDetail, eventToEnvelope } from './detail.js';
export { createEventBridgeNotifier, type EventBridgeNotifier, type EventBridgeNotifierOptions } from './notifier.js';
