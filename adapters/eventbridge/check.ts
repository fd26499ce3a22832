/**
 * `check()` for the EventBridge tier: DescribeEventBus on the bus, then
 * GetQueueAttributes on the drain queue. A missing bus or queue is a
 * ConfigError naming the field and the fix; an unreachable service is
 * `reachable: false`.
 */
import { DescribeEventBusCommand, type EventBridgeClient } from '@aws-sdk/client-eventbridge';
import type { SQSClient } from '@aws-sdk/client-sqs';
import type { TierCheck } from '../../src/contracts/index.js';
import { ConfigError } from '../../src/errors/index.js';
import { classifyAwsError } from '../aws/classify.js';
import { checkQueue } from '../sqs/check.js';
import { deadlineSignal } from '../../src/failover/deadline.js';

/** What {@link checkEventBridgeTier} needs. */
export interface CheckEventBridgeOptions {
  client: EventBridgeClient;
  eventBusName: string;
  drainClient: SQSClient;
  drainQueueUrl: string;
  /** The tier's place in the configuration, e.g. `secondaries.0`. */
  field: string;
  id: string;
  region: string;
  signal: AbortSignal;
}

/** Probe the bus and its drain queue; never throws. */
export async function checkEventBridgeTier(options: CheckEventBridgeOptions): Promise<TierCheck> {
  const context = { target: options.id, region: options.region };
  const field = `${options.field}.eventBusName`;
  try {
    const signal = deadlineSignal(options.signal, 5_000);
    await options.client.send(new DescribeEventBusCommand({ Name: options.eventBusName }), { abortSignal: signal });
  } catch (error) {
    const name = (error as { name?: string })?.name ?? '';
    if (name === 'ResourceNotFoundException') {
      const message = `${field}: event bus "${options.eventBusName}" does not exist in ${options.region}; create it (aws events create-event-bus --name ${options.eventBusName}) or correct ${field}`;
      return { reachable: true, writable: false, detail: message, error: new ConfigError(message, { field, cause: error }) };
    }
    const classified = classifyAwsError(error, context);
    const reachable = classified.code === 'spillway:target-rejected';
    return { reachable, writable: false, detail: `${options.id} did not answer DescribeEventBus: ${classified.message}`, error: classified };
  }
  const queue = await checkQueue({
    client: options.drainClient,
    queueUrl: options.drainQueueUrl,
    field: `${options.field}.drainQueue.queueUrl`,
    id: `${options.id} drain queue`,
    region: options.region,
    signal: options.signal,
  });
  if (queue.error) return queue;
  return { reachable: true, writable: true, detail: `${options.id}: bus found; drain queue: ${queue.detail}` };
}
