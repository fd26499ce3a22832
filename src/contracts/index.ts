export type { Target, PutResult, Receipt } from './target.js';
export type { Spool, Lease, SpoolStats } from './spool.js';
export type { DedupeStore, CheckpointStore } from './stores.js';
export type { DrainSource, SourceChunk } from './source.js';
