/**
 * Test helpers for the SQS tier: one fauxqs per test file behind the
 * project's fault proxy, unique queues per test, and an interposer that fails
 * some SendMessageBatch entries the way SQS reports a partial failure.
 */
import http from 'node:http';
import type { SQSClient } from '@aws-sdk/client-sqs';
import { afterAll, beforeAll } from 'vitest';
import { type FaultProxy, startFaultProxy } from '../../src/drill/fault-proxy.js';
import { type QueueCounts, type SqsEmulator, startSqsEmulator } from '../../src/drill/fauxqs.js';
import { createMemoryCheckpointStore, createMemoryDedupeStore, createMemorySpool } from '../../adapters/memory/index.js';
import { createKinesisTarget, type KinesisTarget } from '../../adapters/kinesis/kinesis-target.js';
import { findIdsSince } from '../../adapters/kinesis/shard-source.js';
import { assembleBus, type Bus } from '../../src/bus/bus.js';
import type { RemoteTier } from '../../src/contracts/index.js';
import { FAKE_CREDENTIALS, readAllRecords } from '../../src/drill/kinesis-admin.js';
import { decodeEnvelope, type Envelope } from '../../src/envelope/index.js';
import { silentLogger } from './bus-parts.js';
import { type KinesisEmulatorFixture, uniqueName, waitFor } from './emulators.js';

export const SQS_REGION = 'us-west-2';

/** The handle {@link useSqsEmulator} returns; getters throw before `beforeAll`. */
export interface SqsFixture {
  readonly emulator: SqsEmulator;
  /** The fault proxy in front of fauxqs; give tiers `proxy.url` as their endpoint. */
  readonly proxy: FaultProxy;
  /** A client straight to fauxqs (no proxy). */
  readonly admin: SQSClient;
  /** A unique queue (FIFO when asked); returns its URL and name. Deleted after the file. */
  createQueue(options?: { fifo?: boolean; attributes?: Record<string, string> }): Promise<{ queueUrl: string; name: string }>;
  /** Visible, in-flight and delayed messages, from GetQueueAttributes. */
  counts(queueUrl: string): Promise<QueueCounts>;
}

/** Start fauxqs and a fault proxy for this file (or `describe` block). */
export function useSqsEmulator(): SqsFixture {
  let emulator: SqsEmulator | undefined;
  let proxy: FaultProxy | undefined;
  const queues: string[] = [];
  beforeAll(async () => {
    emulator = await startSqsEmulator({ region: SQS_REGION });
    proxy = await startFaultProxy({ target: emulator.endpoint });
  });
  afterAll(async () => {
    for (const url of queues) await emulator?.deleteQueue(url);
    await proxy?.close();
    await emulator?.stop();
  });
  const started = <T>(value: T | undefined): T => {
    if (value === undefined) throw new Error('fauxqs is not running (used outside a test?)');
    return value;
  };
  return {
    get emulator() {
      return started(emulator);
    },
    get proxy() {
      return started(proxy);
    },
    get admin() {
      return started(emulator).client;
    },
    async createQueue(options = {}) {
      const name = `${uniqueName('q')}${options.fifo ? '.fifo' : ''}`;
      const queueUrl = await started(emulator).createQueue(name, options.attributes);
      queues.push(queueUrl);
      return { queueUrl, name };
    },
    counts: (queueUrl) => started(emulator).counts(queueUrl),
  };
}

/** A running {@link startEntryFailer}. */
export interface EntryFailer {
  readonly url: string;
  /** Entries reported failed so far. */
  readonly failedEntries: number;
  /** SendMessageBatch calls seen. */
  readonly calls: number;
  close(): Promise<void>;
}

/**
 * An HTTP interposer in front of SQS that, for the next `times` SendMessageBatch
 * calls, removes every `failEvery`-th entry before forwarding and reports it in
 * `Failed` (`InternalError`, not the sender's fault), as SQS does.
 */
export async function startEntryFailer(upstream: string, options: { failEvery: number; times: number; code?: string }): Promise<EntryFailer> {
  const target = new URL(upstream);
  let remaining = options.times;
  let failedEntries = 0;
  let calls = 0;
  const server = http.createServer((req, res) => {
    void (async () => {
      const body = Buffer.concat((await req.toArray()) as Buffer[]);
      const op = String(req.headers['x-amz-target'] ?? '');
      let forwardBody = body;
      let removed: Array<{ Id: string }> = [];
      if (op === 'AmazonSQS.SendMessageBatch') {
        calls++;
        if (remaining > 0) {
          remaining--;
          const request = JSON.parse(body.toString('utf8')) as { Entries: Array<{ Id: string }> };
          removed = request.Entries.filter((_, i) => (i + 1) % options.failEvery === 0);
          forwardBody = Buffer.from(JSON.stringify({ ...request, Entries: request.Entries.filter((_, i) => (i + 1) % options.failEvery !== 0) }));
        }
      }
      const answer = await forward(target, req, forwardBody);
      let out = answer.body;
      if (removed.length > 0 && answer.status === 200) {
        failedEntries += removed.length;
        const parsed = JSON.parse(answer.body.toString('utf8')) as { Failed?: unknown[] };
        const failed = removed.map((e) => ({ Id: e.Id, SenderFault: false, Code: options.code ?? 'InternalError', Message: 'injected entry failure' }));
        out = Buffer.from(JSON.stringify({ ...parsed, Failed: [...(parsed.Failed ?? []), ...failed] }));
      }
      res.writeHead(answer.status, { 'content-type': String(answer.headers['content-type'] ?? 'application/x-amz-json-1.0'), 'content-length': out.length });
      res.end(out);
    })().catch(() => res.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address() as { port: number };
  return {
    url: `http://127.0.0.1:${address.port}`,
    get failedEntries() {
      return failedEntries;
    },
    get calls() {
      return calls;
    },
    close: () => new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  };
}

function forward(target: URL, req: http.IncomingMessage, body: Buffer): Promise<{ status: number; headers: http.IncomingHttpHeaders; body: Buffer }> {
  return new Promise((resolve, reject) => {
    const headers = { ...req.headers, 'content-length': String(body.length) };
    delete headers['connection'];
    const upstream = http.request({ hostname: target.hostname, port: target.port, path: req.url, method: req.method, headers }, (response) => {
      response
        .toArray()
        .then((chunks) => resolve({ status: response.statusCode ?? 502, headers: response.headers, body: Buffer.concat(chunks as Buffer[]) }))
        .catch(reject);
    });
    upstream.once('error', reject);
    upstream.end(body);
  });
}

/** A bus whose primary is a Kinesis stream behind a fault proxy and whose only secondary is `tier`. */
export interface KinesisOverTier {
  bus: Bus;
  primary: KinesisTarget;
  proxy: FaultProxy;
  /** Every envelope in the primary stream. */
  readPrimary(): Promise<Envelope[]>;
  /** Reconcile until a run started after the last record landed writes nothing and the spool is empty. */
  drain(timeoutMs?: number): Promise<void>;
  close(): Promise<void>;
}

/** Build a {@link KinesisOverTier} on a fresh stream of `kinesis` (memory spool and dedupe store). */
export async function kinesisOverTier(kinesis: KinesisEmulatorFixture, tier: RemoteTier): Promise<KinesisOverTier> {
  const stream = await kinesis.createStream(2);
  const proxy = await startFaultProxy({ target: kinesis.endpoint });
  const primary = createKinesisTarget({ region: 'us-east-1', stream, endpoint: proxy.url, credentials: FAKE_CREDENTIALS, requestTimeoutMs: 1_000 });
  const bus = assembleBus({
    primary,
    secondaries: [tier.target],
    spool: createMemorySpool(),
    dedupe: createMemoryDedupeStore(),
    secondarySources: () => tier.drainSources(),
    uncertain: {
      store: createMemoryCheckpointStore(),
      findWritten: (ids, sinceMs, signal) => findIdsSince({ client: primary.client, region: primary.region, stream, sinceMs, ids, signal }),
    },
    logger: silentLogger,
    breaker: { resetTimeoutMs: 300, volumeThreshold: 2 },
    delivery: { throttleBudgetMs: 10_000 },
    reconciler: { enabled: true, intervalMs: 60_000, maxRecordsPerSecond: 100_000, maxBytesPerSecond: 1e9, uncertainSettleMs: 300 },
  });
  return {
    bus,
    primary,
    proxy,
    async readPrimary() {
      const records = await readAllRecords(kinesis.client, stream, { timeoutMs: 60_000 });
      return records.map((r) => decodeEnvelope(r.data));
    },
    async drain(timeoutMs = 60_000) {
      await waitFor(
        async () => {
          if ((await bus.stats()).breakers.find((b) => b.tier === 'primary')?.state !== 'closed') return false;
          await bus.reconcile(); // may join a run that began before the last records landed
          const summary = await bus.reconcile();
          return !summary.error && summary.written === 0 && summary.unavailable.length === 0 && (await bus.stats()).spool.records === 0;
        },
        { timeoutMs, intervalMs: 100, message: 'the reconciler to drain the queue' },
      );
    },
    async close() {
      await bus.close();
      await proxy.close();
    },
  };
}
