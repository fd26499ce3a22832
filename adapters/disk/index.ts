/** Durable adapters on local disk: the spool, the dedupe journal and the checkpoint store. */
export {
  createDiskSpool,
  DEFAULT_BLOCK_TIMEOUT_MS,
  DEFAULT_SEGMENT_BYTES,
  DEFAULT_SPOOL_MAX_BYTES,
  type DiskSpool,
  type DiskSpoolOptions,
  type DiskSpoolStats,
  type SpoolRecoveryInfo,
  type TruncatedTail,
} from './disk-spool.js';
export { createDiskDedupeStore, DEDUPE_JOURNAL_FILE, type DiskDedupeStore, type DiskDedupeStoreOptions } from './dedupe-journal.js';
export { createDiskCheckpointStore, CHECKPOINT_FILE, type DiskCheckpointStoreOptions } from './checkpoint-store.js';
export { inspectDiskSpool, type DiskSpoolReport, type SpoolFinding } from './inspect.js';
export { QUARANTINE_DIR, type DamagedRange } from './quarantine.js';
