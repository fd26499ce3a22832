/** The consumer: one subscription across regions, each record delivered once. */
export { createConsumer, DEFAULT_DEDUPE_TTL_MS, type Consumer } from './create-consumer.js';
export { ConsumerEvents, type ConsumerEventMap } from './events.js';
export { rawRecordId } from './record.js';
export { createDiskDeadLetter } from './dead-letter.js';
export type { ConsumedRecord, ConsumedTier, ConsumerOptions, DeadLetterSink, HandlerRetryOptions, RecordHandler, ShardLeaseStore, ClaimingDedupeStore } from './types.js';
