/**
 * The SQS drain source against fauxqs behind the fault proxy: what a chunk
 * holds, what commit deletes, what abandon hands back, the visibility
 * extension, and redelivery caught by the dedupe store. Every message in the
 * queue is counted before and after.
 */
import { SendMessageBatchCommand } from '@aws-sdk/client-sqs';
import { describe, expect, it } from 'vitest';
import { createMemoryCheckpointStore, createMemoryDedupeStore, createMemorySpool } from '../../adapters/memory/index.js';
import { createSqsTier, sqsDescriptor } from '../../adapters/sqs/index.js';
import { assembleBus } from '../../src/bus/bus.js';
import { FAKE_CREDENTIALS } from '../../src/drill/kinesis-admin.js';
import { TransientError } from '../../src/errors/index.js';
import { silentLogger } from '../helpers/bus-parts.js';
import { waitFor } from '../helpers/emulators.js';
import { MemoryTarget } from '../helpers/memory-target.js';
import { makeEnvelopes } from '../helpers/spool-fixtures.js';
import { SQS_REGION, useSqsEmulator } from '../helpers/sqs.js';

const context = { field: 'secondaries.0', role: 'secondary' as const, logger: silentLogger, checkpoints: createMemoryCheckpointStore() };
const signal = () => AbortSignal.timeout(10_000);

describe('SQS drain source (fauxqs)', () => {
  const sqs = useSqsEmulator();
  const tierOn = async (options: { visibilityTimeoutSeconds?: number; maxChunkMessages?: number } = {}) => {
    const { queueUrl } = await sqs.createQueue();
    const config = sqsDescriptor.schema.parse({ kind: 'sqs', region: SQS_REGION, queueUrl, endpoint: sqs.proxy.url, credentials: FAKE_CREDENTIALS, waitTimeSeconds: 0, ...options });
    return { queueUrl, tier: createSqsTier(config, context) };
  };

  it('reads a chunk sorted by send time, and commit deletes exactly its messages', async () => {
    const { queueUrl, tier } = await tierOn({ maxChunkMessages: 20 });
    const sent = makeEnvelopes(0, 30, 'drain').reverse(); // sent newest first: the chunk must sort them
    for (let i = 0; i < sent.length; i += 10) expect((await tier.target.put(sent.slice(i, i + 10), signal())).failed).toEqual([]);
    const [source] = await tier.drainSources();
    const first = await source!.next(1_000, signal());
    expect(first!.envelopes).toHaveLength(20);
    const times = first!.envelopes.map((e) => e.sentTime);
    expect(times).toEqual([...times].sort((a, b) => a - b));
    expect(await sqs.counts(queueUrl)).toEqual({ visible: 10, inflight: 20, delayed: 0 });
    await first!.commit();
    expect(await sqs.counts(queueUrl)).toEqual({ visible: 10, inflight: 0, delayed: 0 });
    const second = await source!.next(1_000, signal());
    await second!.commit();
    expect(await source!.next(1_000, signal())).toBeUndefined();
    expect(new Set([...first!.envelopes, ...second!.envelopes].map((e) => e.id)).size).toBe(30);
    expect(await sqs.counts(queueUrl)).toEqual({ visible: 0, inflight: 0, delayed: 0 });
    await tier.target.close();
  });

  it('abandon makes the chunk visible again at once', async () => {
    const { queueUrl, tier } = await tierOn({ visibilityTimeoutSeconds: 600 });
    await tier.target.put(makeEnvelopes(0, 8, 'abandon'), signal());
    const [source] = await tier.drainSources();
    const chunk = await source!.next(1_000, signal());
    expect(await sqs.counts(queueUrl)).toMatchObject({ visible: 0, inflight: 8 });
    await source!.abandon!(chunk!);
    expect(await sqs.counts(queueUrl)).toMatchObject({ visible: 8, inflight: 0 });
    const again = await source!.next(1_000, signal());
    expect(again!.envelopes.map((e) => e.id)).toEqual(chunk!.envelopes.map((e) => e.id));
    await again!.commit();
    await tier.target.close();
  });

  it('extends the visibility of an uncommitted chunk so it is not redelivered', async () => {
    const { queueUrl, tier } = await tierOn({ visibilityTimeoutSeconds: 1 });
    await tier.target.put(makeEnvelopes(0, 5, 'extend'), signal());
    const [source] = await tier.drainSources();
    const chunk = await source!.next(1_000, signal());
    const extensions = () => sqs.proxy.stats().byOperation['ChangeMessageVisibilityBatch'] ?? 0;
    const before = extensions();
    const received = Date.now();
    // Well past the 1 s timeout (four extensions, or 3 s if there are none): the messages must still be in flight.
    await waitFor(() => extensions() - before >= 4 || Date.now() - received > 3_000, { timeoutMs: 10_000, message: 'time past the visibility timeout' });
    expect(await source!.next(1_000, signal())).toBeUndefined(); // a receive: nothing was redelivered
    expect(await sqs.counts(queueUrl)).toMatchObject({ visible: 0, inflight: 5 });
    expect(extensions() - before).toBeGreaterThanOrEqual(4);
    await chunk!.commit();
    const after = extensions();
    expect(await sqs.counts(queueUrl)).toEqual({ visible: 0, inflight: 0, delayed: 0 });
    expect(extensions()).toBe(after); // the timer stopped with the commit
    await tier.target.close();
  });

  it('leaves messages spillway did not write in the queue and counts them as foreign', async () => {
    const { queueUrl, tier } = await tierOn({ visibilityTimeoutSeconds: 1 });
    await tier.target.put(makeEnvelopes(0, 3, 'mixed'), signal());
    await sqs.admin.send(new SendMessageBatchCommand({ QueueUrl: queueUrl, Entries: [{ Id: 'a', MessageBody: '{"not":"spillway"}' }, { Id: 'b', MessageBody: 'aGVsbG8=' }] }));
    const [source] = await tier.drainSources();
    const chunk = await source!.next(1_000, signal());
    expect(chunk!.envelopes).toHaveLength(3);
    expect(chunk!.foreign).toBe(2);
    await chunk!.commit();
    // fauxqs updates its counts on receive, so look by receiving: a later run finds the two again, and only them.
    const later = await waitFor(async () => (await (await tier.drainSources())[0]!.next(1_000, signal())) ?? undefined, { timeoutMs: 10_000, intervalMs: 200, message: 'the foreign messages to come back' });
    expect(later.envelopes).toHaveLength(0);
    expect(later.foreign).toBe(2);
    expect(await sqs.counts(queueUrl)).toMatchObject({ visible: 0, inflight: 2 });
    await tier.target.close();
  });

  it('a message redelivered after a failed delete is skipped by the dedupe store and then deleted', async () => {
    const { queueUrl, tier } = await tierOn({ visibilityTimeoutSeconds: 1 });
    const sent = makeEnvelopes(0, 12, 'redeliver');
    for (let i = 0; i < sent.length; i += 10) await tier.target.put(sent.slice(i, i + 10), signal());
    const primary = new MemoryTarget('mem:primary');
    const bus = assembleBus({
      primary,
      secondaries: [tier.target],
      spool: createMemorySpool(),
      dedupe: createMemoryDedupeStore(),
      secondarySources: () => tier.drainSources(),
      logger: silentLogger,
      reconciler: { enabled: false, maxRecordsPerSecond: 1e6, maxBytesPerSecond: 1e12 },
    });
    // The primary takes the records, but deleting (and handing back) fails: the messages stay in flight.
    sqs.proxy.setFault({ mode: 'error500', operations: ['DeleteMessageBatch', 'ChangeMessageVisibilityBatch'] });
    const failed = await bus.reconcile();
    expect(failed.error).toBeDefined();
    expect(failed.written).toBe(12);
    sqs.proxy.setFault({ mode: 'none' });
    expect((await sqs.counts(queueUrl)).inflight).toBe(12);
    // After the visibility timeout they come back; the next run skips them as written and deletes them.
    const summary = await waitFor(async () => {
      const s = await bus.reconcile();
      return s.skippedDuplicates === 12 ? s : undefined;
    }, { timeoutMs: 15_000, intervalMs: 200, message: 'a run that sees the redelivered messages' });
    expect(summary.written).toBe(0);
    expect(primary.ids().sort()).toEqual(sent.map((e) => e.id).sort());
    expect(await sqs.counts(queueUrl)).toEqual({ visible: 0, inflight: 0, delayed: 0 });
    await bus.close();
  });

  it('a receive that fails makes the source unavailable for the run, not the drain', async () => {
    const { tier } = await tierOn();
    const [source] = await tier.drainSources();
    sqs.proxy.setFault({ mode: 'refuse' });
    try {
      await expect(source!.next(10, signal())).rejects.toBeInstanceOf(TransientError);
    } finally {
      sqs.proxy.setFault({ mode: 'none' });
    }
    await tier.target.close();
  });
});
