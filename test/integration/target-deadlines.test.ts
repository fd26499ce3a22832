/**
 * Each target drops a call's deadline as soon as the call ends: the request
 * handler's abort signal no longer follows the caller's signal (a bus's
 * long-lived one), and no timer is left to fire for a call that is over.
 * Real SDK clients against kinesalite, fauxqs and the EventBridge fake; the
 * request handler is Node's, wrapped to record the signal each call got.
 */
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { KinesisClient } from '@aws-sdk/client-kinesis';
import { SQSClient } from '@aws-sdk/client-sqs';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import { setTimeout as delay } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { createEventBridgeTarget } from '../../adapters/eventbridge/eventbridge-target.js';
import { createKinesisTarget } from '../../adapters/kinesis/kinesis-target.js';
import { createSqsTarget } from '../../adapters/sqs/sqs-target.js';
import type { Target } from '../../src/contracts/index.js';
import { FAKE_CREDENTIALS } from '../../src/drill/kinesis-admin.js';
import { createStamper } from '../../src/envelope/index.js';
import { useKinesisEmulator } from '../helpers/emulators.js';
import { useEventBridgeFake } from '../helpers/eventbridge.js';
import { SQS_REGION, useSqsEmulator } from '../helpers/sqs.js';

/** Short, so a deadline left running fires within the test. */
const REQUEST_TIMEOUT_MS = 300;

const kinesis = useKinesisEmulator();
const sqs = useSqsEmulator();
const eventBridge = useEventBridgeFake(sqs);

/** Node's handler, recording the abort signal of every request. */
function recordingHandler(): { handler: NodeHttpHandler; signals: AbortSignal[] } {
  const inner = new NodeHttpHandler();
  const signals: AbortSignal[] = [];
  const handler = Object.create(inner) as NodeHttpHandler;
  handler.handle = (...args: Parameters<NodeHttpHandler['handle']>) => {
    const signal = args[1]?.abortSignal;
    if (signal) signals.push(signal as AbortSignal);
    return inner.handle(...args);
  };
  return { handler, signals };
}

/** A put of three records and a probe under one caller signal; then that signal aborts. */
async function callThenAbort(target: Target, signals: AbortSignal[]): Promise<void> {
  const stamp = createStamper();
  const caller = new AbortController();
  const out = await target.put(
    [0, 1, 2].map((i) => stamp({ partitionKey: `k${i}`, data: { i } })),
    caller.signal,
  );
  expect(out.failed).toEqual([]);
  await target.probe(caller.signal);
  expect(signals.length).toBeGreaterThanOrEqual(2);
  caller.abort(new Error('bus closing'));
  // A deadline still following the caller would abort here, a call already over.
  for (const signal of signals) expect(signal.aborted).toBe(false);
  // And one whose timer was left running would abort once its request timeout has passed.
  await delay(REQUEST_TIMEOUT_MS + 200);
  for (const signal of signals) expect(signal.aborted).toBe(false);
  await target.close();
}

describe('a call deadline ends with its call', () => {
  it('Kinesis target', async () => {
    const stream = await kinesis.createStream();
    const { handler, signals } = recordingHandler();
    const client = new KinesisClient({ region: 'us-east-1', endpoint: kinesis.endpoint, credentials: FAKE_CREDENTIALS, requestHandler: handler, maxAttempts: 1 });
    await callThenAbort(createKinesisTarget({ region: 'us-east-1', stream, client, requestTimeoutMs: REQUEST_TIMEOUT_MS }), signals);
    client.destroy();
  });

  it('Kinesis target with aggregation (its shard listing too)', async () => {
    const stream = await kinesis.createStream(2);
    const { handler, signals } = recordingHandler();
    const client = new KinesisClient({ region: 'us-east-1', endpoint: kinesis.endpoint, credentials: FAKE_CREDENTIALS, requestHandler: handler, maxAttempts: 1 });
    await callThenAbort(createKinesisTarget({ region: 'us-east-1', stream, client, aggregate: true, requestTimeoutMs: REQUEST_TIMEOUT_MS }), signals);
    client.destroy();
  });

  it('SQS target', async () => {
    const { queueUrl } = await sqs.createQueue();
    const { handler, signals } = recordingHandler();
    const client = new SQSClient({ region: SQS_REGION, endpoint: sqs.proxy.url, credentials: FAKE_CREDENTIALS, requestHandler: handler, maxAttempts: 1 });
    await callThenAbort(createSqsTarget({ region: SQS_REGION, queueUrl, client, requestTimeoutMs: REQUEST_TIMEOUT_MS }), signals);
    client.destroy();
  });

  it('EventBridge target', async () => {
    const { busName } = await eventBridge.createBus();
    const { handler, signals } = recordingHandler();
    const client = new EventBridgeClient({ region: SQS_REGION, endpoint: eventBridge.proxy.url, credentials: FAKE_CREDENTIALS, requestHandler: handler, maxAttempts: 1 });
    await callThenAbort(createEventBridgeTarget({ region: SQS_REGION, eventBusName: busName, client, requestTimeoutMs: REQUEST_TIMEOUT_MS }), signals);
    client.destroy();
  });
});
