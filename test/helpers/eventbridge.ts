/**
 * Test helpers for the EventBridge tier: the protocol-level fake behind the
 * project's fault proxy, delivering to fauxqs queues as a rule would.
 */
import { afterAll, beforeAll } from 'vitest';
import { createMemoryCheckpointStore } from '../../adapters/memory/index.js';
import { type EventBridgeTierConfig, eventBridgeTierSchema } from '../../adapters/eventbridge/index.js';
import { type EventBridgeFake, startEventBridgeFake } from '../../src/drill/eventbridge-fake.js';
import { type FaultProxy, startFaultProxy } from '../../src/drill/fault-proxy.js';
import { FAKE_CREDENTIALS } from '../../src/drill/kinesis-admin.js';
import { silentLogger } from './bus-parts.js';
import { uniqueName } from './emulators.js';
import { SQS_REGION, type SqsFixture } from './sqs.js';

/** The handle {@link useEventBridgeFake} returns. */
export interface EventBridgeFixture {
  readonly fake: EventBridgeFake;
  /** The fault proxy in front of the fake. */
  readonly proxy: FaultProxy;
  /** A unique bus whose rule delivers to a new fauxqs queue; returns a tier configuration for both. */
  createBus(overrides?: Partial<EventBridgeTierConfig>): Promise<{ config: EventBridgeTierConfig; busName: string; queueUrl: string }>;
}

/** The context a tier factory gets in these tests. */
export const tierContext = { field: 'secondaries.0', role: 'secondary' as const, logger: silentLogger, checkpoints: createMemoryCheckpointStore() };

/** Start the fake and its fault proxy for this file; `sqs` provides the drain queues. */
export function useEventBridgeFake(sqs: SqsFixture): EventBridgeFixture {
  let fake: EventBridgeFake | undefined;
  let proxy: FaultProxy | undefined;
  beforeAll(async () => {
    fake = await startEventBridgeFake({ region: SQS_REGION });
    proxy = await startFaultProxy({ target: fake.endpoint });
  });
  afterAll(async () => {
    await proxy?.close();
    await fake?.close();
  });
  const started = <T>(value: T | undefined): T => {
    if (value === undefined) throw new Error('the EventBridge fake is not running (used outside a test?)');
    return value;
  };
  return {
    get fake() {
      return started(fake);
    },
    get proxy() {
      return started(proxy);
    },
    async createBus(overrides = {}) {
      const busName = uniqueName('bus');
      const { queueUrl } = await sqs.createQueue();
      started(fake).addBus(busName, { client: sqs.admin, queueUrl });
      const config = eventBridgeTierSchema.parse({
        kind: 'eventbridge',
        region: SQS_REGION,
        eventBusName: busName,
        endpoint: started(proxy).url,
        credentials: FAKE_CREDENTIALS,
        requestTimeoutMs: 1_000,
        drainQueue: { queueUrl, endpoint: sqs.proxy.url, waitTimeSeconds: 0 },
        ...overrides,
      });
      return { config, busName, queueUrl };
    },
  };
}
