/**
 * An SQS emulator for tests and drills: fauxqs (npm) in this process, on a
 * free port of 127.0.0.1 only. Tooling: nothing in the library's runtime
 * imports this file.
 *
 * Queue URLs read `http://sqs.<region>.localhost:<port>/000000000000/<name>`;
 * clients reach them through an endpoint override (the emulator's or a fault
 * proxy's), never by resolving that host.
 *
 * fauxqs gaps that matter to spillway (1.9.2):
 * - A FIFO queue hands out one message per message group at a time (SQS gives
 *   up to ten of a group in one receive), so a FIFO drain takes one record
 *   per group per reconciler run.
 * - DeleteMessageBatch accepts any receipt handle, including stale ones (SQS
 *   fails those entries with ReceiptHandleIsInvalid).
 */
import { CreateQueueCommand, DeleteQueueCommand, GetQueueAttributesCommand, SQSClient } from '@aws-sdk/client-sqs';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import { FAKE_CREDENTIALS } from './kinesis-admin.js';

/** Options for {@link startSqsEmulator}. */
export interface SqsEmulatorOptions {
  /** Port to listen on (default: a free one). */
  port?: number;
  /** Region queues are created in (default `us-east-1`). */
  region?: string;
}

/** What a queue holds right now, from GetQueueAttributes. */
export interface QueueCounts {
  visible: number;
  inflight: number;
  delayed: number;
}

/** A running SQS emulator. */
export interface SqsEmulator {
  /** `http://127.0.0.1:PORT`: the endpoint to give SQS clients. */
  readonly endpoint: string;
  readonly region: string;
  /** A client straight to the emulator, signing for its region. */
  readonly client: SQSClient;
  /** Create a queue (a name ending in `.fifo` makes a FIFO queue) and return its URL. */
  createQueue(name: string, attributes?: Record<string, string>): Promise<string>;
  /** Delete a queue; nothing if it does not exist. */
  deleteQueue(queueUrl: string): Promise<void>;
  counts(queueUrl: string): Promise<QueueCounts>;
  stop(): Promise<void>;
}

/** Start fauxqs in this process on 127.0.0.1. */
export async function startSqsEmulator(options: SqsEmulatorOptions = {}): Promise<SqsEmulator> {
  const region = options.region ?? 'us-east-1';
  const { buildApp } = await loadFauxqs();
  const app = buildApp({ logger: false, host: 'localhost', defaultRegion: region });
  await app.listen({ port: options.port ?? 0, host: '127.0.0.1' });
  const address = app.server.address();
  const port = typeof address === 'object' && address !== null ? address.port : options.port;
  const endpoint = `http://127.0.0.1:${port}`;
  const client = new SQSClient({ region, endpoint, credentials: FAKE_CREDENTIALS, maxAttempts: 1, useQueueUrlAsEndpoint: false, requestHandler: new NodeHttpHandler() });
  let stopped = false;
  return {
    endpoint,
    region,
    client,
    async createQueue(name, attributes = {}) {
      const Attributes = { ...(name.endsWith('.fifo') ? { FifoQueue: 'true' } : {}), ...attributes };
      const out = await client.send(new CreateQueueCommand({ QueueName: name, Attributes }));
      return out.QueueUrl as string;
    },
    async deleteQueue(queueUrl) {
      await client.send(new DeleteQueueCommand({ QueueUrl: queueUrl })).catch(() => undefined);
    },
    async counts(queueUrl) {
      const names = ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible', 'ApproximateNumberOfMessagesDelayed'] as const;
      const a = (await client.send(new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: [...names] }))).Attributes ?? {};
      return { visible: Number(a[names[0]]), inflight: Number(a[names[1]]), delayed: Number(a[names[2]]) };
    },
    async stop() {
      if (stopped) return;
      stopped = true;
      client.destroy();
      await app.close();
    },
  };
}

/** fauxqs is a development dependency: loaded on first use, so importing this file never fails. */
async function loadFauxqs(): Promise<typeof import('fauxqs')> {
  try {
    return await import('fauxqs');
  } catch (cause) {
    throw new Error('The SQS emulator needs the fauxqs package (a development dependency); install it with "npm install --save-dev fauxqs@1".', { cause });
  }
}
