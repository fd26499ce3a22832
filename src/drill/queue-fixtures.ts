/**
 * What the SQS and EventBridge scenarios start beside the Kinesis regions: fauxqs in this process, behind a
 * fault proxy of its own, with a unique queue per scenario; for EventBridge, the protocol fake whose bus rule
 * delivers every event to a fauxqs drain queue. The secondary Kinesis tier is replaced by the queue or bus.
 *
 * Invariants:
 * - `close` stops everything `setup` started, in reverse order, even when a later step failed.
 * - The queue's proxy is healed by the `secondaryUp` action; a scenario that faults it must heal it.
 * - `backlog` counts the queue's visible, in-flight and delayed messages straight from fauxqs (no proxy).
 */
import { randomUUID } from 'node:crypto';
import type { LongFormConfigInput } from '../config/schema.js';
import { startEventBridgeFake } from './eventbridge-fake.js';
import { startFaultProxy } from './fault-proxy.js';
import { startSqsEmulator } from './fauxqs.js';
import { FAKE_CREDENTIALS } from './kinesis-admin.js';
import { HEALTHY, REFUSE, type ScenarioFixture, type SetupContext } from './scenario.js';

type Cleanup = Array<() => Promise<unknown>>;

/**
 * No long polls, and a short visibility timeout: messages a cut-short drain left in flight come back within
 * seconds, so the recovery (which waits for the queue to be empty) stays short.
 */
const DRAIN_TUNING = { waitTimeSeconds: 0, visibilityTimeoutSeconds: 5 };

async function closeAll(cleanup: Cleanup): Promise<void> {
  for (const step of cleanup.splice(0).reverse()) await step().catch(() => undefined);
}

/** Runs `build`, undoing what it started if it throws. */
async function guarded(build: (cleanup: Cleanup) => Promise<ScenarioFixture>): Promise<ScenarioFixture> {
  const cleanup: Cleanup = [];
  try {
    return await build(cleanup);
  } catch (error) {
    await closeAll(cleanup);
    throw error;
  }
}

/** fauxqs behind a fault proxy, and one fresh queue. */
async function queueBehindProxy(context: SetupContext, cleanup: Cleanup) {
  const sqs = await startSqsEmulator({ region: context.env.secondary.name });
  cleanup.push(() => sqs.stop());
  const proxy = await startFaultProxy({ target: sqs.endpoint });
  cleanup.push(() => proxy.close());
  const queueUrl = await sqs.createQueue(`drill-${randomUUID().slice(0, 8)}`);
  const actions = {
    secondaryDown: async () => proxy.setFault(REFUSE),
    secondaryUp: async () => proxy.setFault(HEALTHY),
  };
  const backlog = async (): Promise<number> => {
    const c = await sqs.counts(queueUrl);
    return c.visible + c.inflight + c.delayed;
  };
  return { sqs, proxy, queueUrl, actions, backlog };
}

/** The secondary becomes an SQS queue (fauxqs), reachable through a proxy the scenario can fault. */
export function sqsSecondary(context: SetupContext): Promise<ScenarioFixture> {
  return guarded(async (cleanup) => {
    const { proxy, queueUrl, actions, backlog } = await queueBehindProxy(context, cleanup);
    const secondary = { kind: 'sqs' as const, region: context.env.secondary.name, queueUrl, endpoint: proxy.url, credentials: FAKE_CREDENTIALS, requestTimeoutMs: 1_000, ...DRAIN_TUNING };
    const config: LongFormConfigInput = { ...context.config, secondaries: [secondary] };
    return { config, actions, backlog, close: () => closeAll(cleanup) };
  });
}

/**
 * The secondary becomes an EventBridge bus (the fake) whose rule delivers to a fauxqs drain queue; the
 * proxy sits in front of the bus, so faulting it fails PutEvents while the drain queue stays readable.
 */
export function eventBridgeSecondary(context: SetupContext): Promise<ScenarioFixture> {
  return guarded(async (cleanup) => {
    const { sqs, queueUrl, backlog } = await queueBehindProxy(context, cleanup);
    const fake = await startEventBridgeFake({ region: context.env.secondary.name });
    cleanup.push(() => fake.close());
    const busProxy = await startFaultProxy({ target: fake.endpoint });
    cleanup.push(() => busProxy.close());
    const eventBusName = `drill-${randomUUID().slice(0, 8)}`;
    fake.addBus(eventBusName, { client: sqs.client, queueUrl });
    const secondary = {
      kind: 'eventbridge' as const, region: context.env.secondary.name, eventBusName, endpoint: busProxy.url, credentials: FAKE_CREDENTIALS, requestTimeoutMs: 1_000,
      drainQueue: { queueUrl, endpoint: sqs.endpoint, ...DRAIN_TUNING },
    };
    const config: LongFormConfigInput = { ...context.config, secondaries: [secondary] };
    const actions = { secondaryDown: async () => busProxy.setFault(REFUSE), secondaryUp: async () => busProxy.setFault(HEALTHY) };
    return { config, actions, backlog, close: () => closeAll(cleanup) };
  });
}
