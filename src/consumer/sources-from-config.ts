/**
 * The one place the consumer reads bus configuration: the primary stream,
 * the Kinesis secondaries and where local state lives. Written against
 * the configuration loader, so the consumer takes what `createBus` takes.
 */
import { KinesisClient } from '@aws-sdk/client-kinesis';
import { awsClientConfig } from '../../adapters/aws/client-options.js';
import { findConfigFile, loadConfig } from '../config/load.js';
import { parseBusConfig } from '../config/parse.js';
import { stateDirOf } from '../config/state-dir.js';
import { ConfigError } from '../errors/index.js';
import type { BusConfigInput, KinesisTargetConfig } from '../config/schema.js';
import type { ConsumerSource } from './shard-scheduler.js';

/** What the consumer takes from the bus configuration. */
export interface ConsumerSourceConfig {
  sources: ConsumerSource[];
  /** Default directory for the consumer's local state (checkpoints, dedupe, dead letters). */
  stateDir: string;
}

/**
 * Read the bus configuration (an object in long or short form, or the path of
 * a configuration file; a {@link ConfigError} names the field) and build one
 * source per Kinesis stream.
 */
export async function sourcesFromConfig(input: BusConfigInput | string): Promise<ConsumerSourceConfig> {
  const config = parseBusConfig(typeof input === 'string' ? await loadConfig(await findConfigFile(input)) : input);
  if (config.primary.kind !== 'kinesis') {
    throw new ConfigError(`primary.kind: a consumer reads a Kinesis primary, not "${config.primary.kind}"`, { field: 'primary.kind' });
  }
  const sources: ConsumerSource[] = [source(config.primary, 'primary')];
  for (const secondary of config.secondaries) if (secondary.kind === 'kinesis') sources.push(source(secondary, 'secondary'));
  return { sources, stateDir: stateDirOf(config) };
}

function source(target: KinesisTargetConfig, tier: ConsumerSource['tier']): ConsumerSource {
  const client = new KinesisClient({
    ...awsClientConfig({
      region: target.region,
      ...(target.endpoint ? { endpoint: target.endpoint } : {}),
      ...(target.credentials ? { credentials: target.credentials } : {}),
    }),
  });
  return { id: `kinesis:${target.region}:${target.stream}`, tier, location: { client, region: target.region, stream: target.stream } };
}
