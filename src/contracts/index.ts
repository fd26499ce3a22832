export type { Target, PutResult, Receipt } from './target.js';
export type { Spool, Lease, SpoolStats, SpoolCipher } from './spool.js';
export type { DedupeStore, CheckpointStore } from './stores.js';
export type { DrainSource, SourceChunk } from './source.js';
export type { TargetDescriptor, RemoteTier, TierContext, TierCheck, SpoolDescriptor, SpoolContext, SpoolEvent } from './descriptor.js';
