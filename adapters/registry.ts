/**
 * The registry of tier and spool kinds: one line per kind. The configuration
 * schema is the union of the schemas listed here, and `createBus` builds
 * tiers only through these descriptors.
 */
import type { SpoolDescriptor, TargetDescriptor } from '../src/contracts/index.js';
import { diskSpoolDescriptor } from './disk/descriptor.js';
import { eventBridgeDescriptor } from './eventbridge/index.js';
import { kinesisDescriptor } from './kinesis/index.js';
import { redisSpoolDescriptor } from './redis/index.js';
import { sqsDescriptor } from './sqs/index.js';

/** The kinds a bus can be built from. */
export interface TierRegistry {
  readonly targets: readonly TargetDescriptor[];
  readonly spools: readonly SpoolDescriptor[];
}

/** Every remote tier kind, one registration line each. */
export const TARGET_KINDS = [kinesisDescriptor, sqsDescriptor, eventBridgeDescriptor] as const;

/** Every spool kind, one registration line each. */
export const SPOOL_KINDS = [redisSpoolDescriptor, diskSpoolDescriptor] as const;

/** The registry `createBus`, `loadConfig` and `spillway config check` use unless given another. */
export const defaultRegistry: TierRegistry = { targets: TARGET_KINDS, spools: SPOOL_KINDS };

type ConfigOf<D> = D extends TargetDescriptor<infer C> ? C : D extends SpoolDescriptor<infer C> ? C : never;

/** Any registered remote tier's configuration (`{ kind: 'kinesis', … }` | …). */
export type TierConfig = ConfigOf<(typeof TARGET_KINDS)[number]>;
/** Any registered spool's configuration (`{ kind: 'disk', … }` | …). */
export type SpoolConfig = ConfigOf<(typeof SPOOL_KINDS)[number]>;
