/** Fast in-memory fakes of the spool and stores, for unit tests only (nothing here is durable). */
export { createMemorySpool, type MemorySpool, type MemorySpoolOptions } from './memory-spool.js';
export { createMemoryDedupeStore, createMemoryCheckpointStore, type MemoryDedupeStoreOptions } from './memory-stores.js';
