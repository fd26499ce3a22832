/**
 * The one place the consumer reads bus configuration: the primary stream,
 * the Kinesis secondaries and where local state lives. Written against
 * `parseBusConfig`; switching to another config loader changes only this file.
 */
import { join } from 'node:path';
import { KinesisClient } from '@aws-sdk/client-kinesis';
import { awsClientConfig } from '../../adapters/aws/client-options.js';
import { parseBusConfig } from '../config/parse.js';
import type { BusConfigInput, KinesisTargetConfig } from '../config/schema.js';
import type { ConsumerSource } from './shard-scheduler.js';

/** What the consumer takes from the bus configuration. */
export interface ConsumerSourceConfig {
  sources: ConsumerSource[];
  /** Default directory for the consumer's local state (checkpoints, dedupe, dead letters). */
  stateDir: string;
}

/** Parse the bus configuration (a {@link ConfigError} names the field) and build one source per Kinesis stream. */
export function sourcesFromConfig(input: BusConfigInput): ConsumerSourceConfig {
  const config = parseBusConfig(input);
  const sources: ConsumerSource[] = [source(config.primary, 'primary')];
  for (const secondary of config.secondaries) if (secondary.kind === 'kinesis') sources.push(source(secondary, 'secondary'));
  return { sources, stateDir: config.stateDir ?? join(config.spool.dir, 'state') };
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
