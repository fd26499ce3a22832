/**
 * spillway: a multi-region failover message bus for AWS. Public exports only.
 */
export { createBus, defaultLogger, type BusDeps } from './bus/create-bus.js';
export { assembleBus, type Bus, type BusParts, type BusStats, type SpoolChainStats, type SendResult, type BatchItemResult } from './bus/bus.js';
export { parseBusConfig } from './config/parse.js';
export { loadConfig, findConfigFile, CONFIG_FILE_NAMES, type LoadConfigOptions } from './config/load.js';
export { applyEnvOverrides } from './config/env.js';
export { configWarnings, type ConfigWarning } from './config/warnings.js';
export type { BusConfig, BusConfigInput, LongFormConfigInput, ShortFormConfigInput, KinesisTargetConfig } from './config/schema.js';
export { defaultRegistry, type TierRegistry, type TierConfig, type SpoolConfig } from '../adapters/registry.js';
export * from './envelope/index.js';
export * from './errors/index.js';
export type * from './contracts/index.js';
export { BusEvents, type BusEventMap, type ReconcileSummary, type TierName } from './events/bus-events.js';
export type { LandedOn, DispatchOutcome } from './failover/router.js';
export type { BreakerOptions } from './failover/breaker.js';
export type { DeliveryOptions } from './failover/deliver.js';
export type { BatcherOptions } from './failover/batcher.js';
export type { ReconcilerOptions } from './reconciler/reconciler.js';
export { FailoverKinesisClient, type FailoverKinesisClientConfig, type FailoverOptions } from './client/failover-kinesis-client.js';
export { MARKER_PREFIX } from './client/sdk-shapes.js';
export type { LoggerLike } from './logging/logger-like.js';
export { attachMetrics, instrumentBus, BREAKER_STATE_VALUE, type BusMetrics } from './observability/metrics.js';
export { startMetricsServer, type MetricsServer } from './observability/metrics-server.js';
export { attachFailoverLog } from './observability/log-summary.js';
export { attachStatusFile, STATUS_FILE, type StatusSnapshot } from './observability/status-file.js';
export { LOG_LEVELS, parseLogLevel } from './observability/log-level.js';
export { createEventBridgeNotifier, type EventBridgeNotifier, type EventBridgeNotifierOptions } from '../adapters/eventbridge/index.js';
export type { FailbackMode, FailbackOptions } from './failover/failback-gate.js';
export type { DrainPlan } from './reconciler/survey.js';
export * from './consumer/index.js';
export { createSpoolCipher, spoolKeyFrom, parseSpoolKey } from './crypto/spool-cipher.js';
export { redisSpoolDescriptor, inspectRedisSpool, type RedisSpoolConfig } from '../adapters/redis/index.js';
export { createDiskSpool, type DiskSpool, type DiskSpoolOptions, type DiskSpoolStats } from '../adapters/disk/index.js';
