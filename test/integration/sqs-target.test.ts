/**
 * The SQS target and check() against fauxqs behind the fault proxy, with the
 * real SDK client. Counts every record sent and every message in the queue.
 */
import { ReceiveMessageCommand } from '@aws-sdk/client-sqs';
import { describe, expect, it } from 'vitest';
import { createMemoryCheckpointStore } from '../../adapters/memory/index.js';
import { bodyToEnvelope, createSqsTarget, createSqsTier, SQS_MAX_RECORD_BYTES, sqsDescriptor } from '../../adapters/sqs/index.js';
import { createMemoryDedupeStore, createMemorySpool } from '../../adapters/memory/index.js';
import { assembleBus } from '../../src/bus/bus.js';
import { ConfigError, TransientError } from '../../src/errors/index.js';
import { MemoryTarget } from '../helpers/memory-target.js';
import { FAKE_CREDENTIALS } from '../../src/drill/kinesis-admin.js';
import type { Envelope } from '../../src/envelope/index.js';
import { silentLogger } from '../helpers/bus-parts.js';
import { makeEnvelope, makeEnvelopes } from '../helpers/spool-fixtures.js';
import { SQS_REGION, startEntryFailer, useSqsEmulator } from '../helpers/sqs.js';

const context = { field: 'secondaries.0', role: 'secondary' as const, logger: silentLogger, checkpoints: createMemoryCheckpointStore() };
const signal = () => AbortSignal.timeout(10_000);

describe('SQS target (fauxqs)', () => {
  const sqs = useSqsEmulator();
  const target = (queueUrl: string, endpoint = sqs.proxy.url) => createSqsTarget({ region: SQS_REGION, queueUrl, endpoint, credentials: FAKE_CREDENTIALS, requestTimeoutMs: 1_000 });

  async function receiveAll(queueUrl: string): Promise<Array<{ envelope: Envelope; groupId?: string; dedupId?: string }>> {
    const out: Array<{ envelope: Envelope; groupId?: string; dedupId?: string }> = [];
    for (;;) {
      const r = await sqs.admin.send(new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 0, VisibilityTimeout: 60, MessageSystemAttributeNames: ['All'] }));
      if (!r.Messages?.length) return out;
      for (const m of r.Messages) out.push({ envelope: bodyToEnvelope(m.Body ?? '') as Envelope, groupId: m.Attributes?.MessageGroupId, dedupId: m.Attributes?.MessageDeduplicationId });
    }
  }

  it('sends a batch as base64 envelopes that decode to what was sent', async () => {
    const { queueUrl } = await sqs.createQueue();
    const t = target(queueUrl);
    const batch = makeEnvelopes(0, 10, 'std', 200);
    expect((await t.put(batch, signal())).failed).toEqual([]);
    const got = await receiveAll(queueUrl);
    expect(got.map((g) => g.envelope.id).sort()).toEqual(batch.map((e) => e.id));
    expect(Buffer.from(got[0]!.envelope.data).toString()).toMatch(/^std:/);
    expect(t.id).toMatch(/^sqs:us-west-2:q-/);
    await t.close();
  });

  it('on a FIFO queue uses the partition key as group id and the record id as deduplication id, so a resend is dropped', async () => {
    const { queueUrl } = await sqs.createQueue({ fifo: true });
    const t = target(queueUrl);
    const batch = makeEnvelopes(0, 5, 'fifo');
    await t.put(batch, signal());
    await t.put(batch.slice(0, 2), signal()); // a retry of records already sent
    const counts = await sqs.counts(queueUrl);
    expect(counts.visible).toBe(5);
    // fauxqs hands out one message per group at a time: read group by group until empty.
    const got: Array<{ envelope: Envelope; groupId?: string; dedupId?: string }> = [];
    for (let i = 0; i < 10 && got.length < 5; i++) got.push(...(await receiveAll(queueUrl)));
    expect(got).toHaveLength(5);
    for (const g of got) {
      expect(g.groupId).toBe(g.envelope.partitionKey);
      expect(g.dedupId).toBe(g.envelope.id);
    }
    await t.close();
  });

  it('reports failed entries per record, and only those', async () => {
    const { queueUrl } = await sqs.createQueue();
    const failer = await startEntryFailer(sqs.emulator.endpoint, { failEvery: 3, times: 1 });
    const t = target(queueUrl, failer.url);
    const batch = makeEnvelopes(0, 10, 'part');
    const result = await t.put(batch, signal());
    expect(result.failed.map((f) => f.envelope.id)).toEqual([batch[2]!.id, batch[5]!.id, batch[8]!.id]);
    expect(result.failed.every((f) => f.error.retryable)).toBe(true);
    expect((await sqs.counts(queueUrl)).visible).toBe(7);
    await t.close();
    await failer.close();
  });

  it('a bus retries only the failed entries on the queue: every record lands once', async () => {
    const { queueUrl } = await sqs.createQueue();
    const failer = await startEntryFailer(sqs.emulator.endpoint, { failEvery: 4, times: 3 });
    const primary = new MemoryTarget('mem:primary');
    primary.down(new TransientError('primary is down (test)'));
    const bus = assembleBus({
      primary,
      secondaries: [target(queueUrl, failer.url)],
      spool: createMemorySpool(),
      dedupe: createMemoryDedupeStore(),
      logger: silentLogger,
      breaker: { volumeThreshold: 1000 },
      delivery: { backoff: { baseMs: 1, capMs: 5 } },
      reconciler: { enabled: false },
    });
    const results = await bus.sendBatch(Array.from({ length: 30 }, (_, i) => ({ partitionKey: `k${i}`, data: { i } })));
    expect(results.every((r) => r.ok && r.landedOn.tier === 'secondary')).toBe(true);
    expect(failer.failedEntries).toBeGreaterThan(0);
    expect((await sqs.counts(queueUrl)).visible).toBe(30);
    await bus.close();
    await failer.close();
  });

  it('fails an oversize record alone, without sending it, so it moves to the next tier', async () => {
    const { queueUrl } = await sqs.createQueue();
    const t = target(queueUrl);
    const ok = makeEnvelope(1, 'big');
    const huge = { ...makeEnvelope(2, 'big'), data: Buffer.alloc(SQS_MAX_RECORD_BYTES, 1) };
    const result = await t.put([ok, huge], signal());
    expect(result.failed.map((f) => [f.envelope.id, f.error.code])).toEqual([[huge.id, 'spillway:target-rejected']]);
    expect(result.failed[0]!.error.message).toMatch(/over its 262144-byte limit/);
    expect((await sqs.counts(queueUrl)).visible).toBe(1);
    await t.close();
  });

  it('a refused connection is a transient error thrown for the whole call', async () => {
    const { queueUrl } = await sqs.createQueue();
    const t = target(queueUrl);
    sqs.proxy.setFault({ mode: 'refuse' });
    try {
      await expect(t.put(makeEnvelopes(0, 3, 'refused'), signal())).rejects.toMatchObject({ code: 'spillway:transient' });
      await expect(t.probe(signal())).rejects.toMatchObject({ code: 'spillway:transient' });
    } finally {
      sqs.proxy.setFault({ mode: 'none' });
    }
    await t.probe(signal());
    await t.close();
  });

  it('check(): a missing queue is a ConfigError naming the field; an unreachable one is reachable: false', async () => {
    const { queueUrl } = await sqs.createQueue();
    const config = sqsDescriptor.schema.parse({ kind: 'sqs', region: SQS_REGION, queueUrl, endpoint: sqs.proxy.url, credentials: FAKE_CREDENTIALS });
    const good = await createSqsTier(config, context).check(signal());
    expect(good).toMatchObject({ reachable: true, writable: true });

    const missing = await createSqsTier({ ...config, queueUrl: `${queueUrl}-gone` }, context).check(signal());
    expect(missing).toMatchObject({ reachable: true, writable: false });
    expect(missing.error).toBeInstanceOf(ConfigError);
    expect(missing.error?.message).toMatch(/secondaries\.0\.queueUrl: queue .* does not exist in us-west-2; create it or correct secondaries\.0\.queueUrl/);

    sqs.proxy.setFault({ mode: 'refuse' });
    try {
      const down = await createSqsTier(config, context).check(signal());
      expect(down).toMatchObject({ reachable: false, writable: false });
      expect(down.error?.code).toBe('spillway:transient');
    } finally {
      sqs.proxy.setFault({ mode: 'none' });
    }
  });

  it('check(): a queue too small for spillway records is a ConfigError that says what to set', async () => {
    const { queueUrl } = await sqs.createQueue({ attributes: { MaximumMessageSize: '65536' } });
    const config = sqsDescriptor.schema.parse({ kind: 'sqs', region: SQS_REGION, queueUrl, endpoint: sqs.proxy.url, credentials: FAKE_CREDENTIALS });
    const check = await createSqsTier(config, context).check(signal());
    expect(check.error).toBeInstanceOf(ConfigError);
    expect(check.detail).toMatch(/MaximumMessageSize is 65536 bytes.*set MaximumMessageSize to at least 262144/);
  });
});
