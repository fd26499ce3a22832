/**
 * End to end against real Kinesis emulator processes behind fault proxies:
 * nothing about Kinesis is mocked. Counts every record in and out.
 */
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { PutRecordCommand } from '@aws-sdk/client-kinesis';
import { KPL_MAGIC } from '../../adapters/kinesis/aggregation.js';
import { createKinesisDrainSources } from '../../adapters/kinesis/shard-source.js';
import { createMemoryCheckpointStore } from '../../adapters/memory/index.js';
import type { BatchItemResult } from '../../src/bus/bus.js';
import type { ReconcileSummary } from '../../src/events/bus-events.js';
import { waitFor } from '../helpers/emulators.js';
import { idCounts, useTwoRegions } from '../helpers/two-regions.js';

const batchOf = (n: number, phase: string) => Array.from({ length: n }, (_, i) => ({ partitionKey: `customer-${i % 50}`, data: { phase, i } }));

describe('failover end to end (kinesalite)', () => {
  const regions = useTwoRegions('kinesalite');

  it('keeps all 10,000 records through a primary outage and then a secondary outage, exactly once in the primary', async () => {
    const { bus, stream } = await regions.bus();
    const results: BatchItemResult[] = [];
    const phase = async (name: string) => {
      for (let i = 0; i < 5; i++) results.push(...(await bus.sendBatch(batchOf(500, name))));
    };
    await phase('healthy');
    regions.east.proxy.setFault({ mode: 'refuse' });
    await phase('primary-down');
    regions.west.proxy.setFault({ mode: 'refuse' });
    await phase('both-down');
    regions.east.proxy.setFault({ mode: 'none' });
    regions.west.proxy.setFault({ mode: 'none' });
    await phase('recovered');

    expect(results).toHaveLength(10_000);
    const failed = results.filter((r) => !r.ok);
    expect(failed).toEqual([]);
    const tiers = { primary: 0, secondary: 0, spool: 0 };
    for (const r of results) if (r.ok) tiers[r.landedOn.tier]++;
    expect(tiers.primary).toBeGreaterThanOrEqual(2_500);
    expect(tiers.secondary).toBeGreaterThanOrEqual(2_500);
    expect(tiers.spool).toBeGreaterThanOrEqual(2_500);

    await regions.drain(bus);
    const counts = idCounts(await regions.read(regions.east, stream));
    const sentIds = results.map((r) => (r.ok ? r.id : ''));
    expect(counts.size).toBe(10_000);
    expect(sentIds.filter((id) => counts.get(id) !== 1)).toEqual([]);
    expect((await bus.stats()).spool.records).toBe(0);
  }, 180_000);

  it('retries only the failed entries of a partial PutRecords failure', async () => {
    const { bus, stream } = await regions.bus();
    regions.east.proxy.setFault({ mode: 'partial', failEvery: 5, errorCode: 'InternalFailure', operations: ['PutRecords'], times: 1 });
    const before = regions.east.proxy.stats();
    const results = await bus.sendBatch(batchOf(100, 'partial'));
    const after = regions.east.proxy.stats();
    expect(results.every((r) => r.ok && r.landedOn.tier === 'primary')).toBe(true);
    expect(after.failedRecords - before.failedRecords).toBe(20);
    expect((after.byOperation.PutRecords ?? 0) - (before.byOperation.PutRecords ?? 0)).toBe(2);
    const counts = idCounts(await regions.read(regions.east, stream));
    expect(counts.size).toBe(100);
    expect([...counts.values()].every((n) => n === 1)).toBe(true);
    expect(await regions.read(regions.west, stream)).toHaveLength(0);
  });

  it('backs off on throttling and neither fails over nor opens the breaker', async () => {
    const { bus, stream } = await regions.bus();
    const opened: string[] = [];
    bus.events.on('breaker.open', (e) => opened.push(e.target));
    regions.east.proxy.setFault({ mode: 'throttle', operations: ['PutRecords'], times: 4 });
    const results = await bus.sendBatch(batchOf(50, 'throttled'));
    expect(results.every((r) => r.ok && r.landedOn.tier === 'primary')).toBe(true);
    expect(opened).toEqual([]);
    expect((await bus.stats()).breakers[0]?.state).toBe('closed');
    expect(idCounts(await regions.read(regions.east, stream)).size).toBe(50);
    expect(await regions.read(regions.west, stream)).toHaveLength(0);
  });

  it('fails over when the primary hangs, within the request timeout', async () => {
    const { bus, stream } = await regions.bus();
    regions.east.proxy.setFault({ mode: 'hang' });
    const results = await bus.sendBatch(batchOf(20, 'hang'));
    expect(results.every((r) => r.ok && r.landedOn.tier === 'secondary')).toBe(true);
    regions.east.proxy.setFault({ mode: 'none' });
    await regions.drain(bus);
    const counts = idCounts(await regions.read(regions.east, stream));
    expect(counts.size).toBe(20);
  });

  it('skips and counts records on the secondary that spillway did not write, or that do not decode, and drains the rest', async () => {
    const { bus, stream } = await regions.bus();
    const garbage = Buffer.from([0x0a, 0xff, 0xff, 0xff]);
    const undecodable = [
      Buffer.from('{"not":"spillway"}'),
      // The envelope magic with bytes that are not an envelope, and a damaged version 2 envelope.
      Buffer.from('SPW-not-an-envelope'),
      Buffer.concat([Buffer.from('SPW'), Buffer.from([2, 0, 1, 2, 3])]),
      // A KPL aggregate whose digest is right but whose protobuf is not.
      Buffer.concat([KPL_MAGIC, garbage, createHash('md5').update(garbage).digest()]),
    ];
    for (const Data of undecodable) await regions.west.admin.send(new PutRecordCommand({ StreamName: stream, PartitionKey: 'other-app', Data }));
    regions.east.proxy.setFault({ mode: 'refuse' });
    const results = await bus.sendBatch(batchOf(30, 'foreign'));
    expect(results.every((r) => r.ok && r.landedOn.tier === 'secondary')).toBe(true);
    regions.east.proxy.setFault({ mode: 'none' });
    const summaries: ReconcileSummary[] = [];
    bus.events.on('reconciler.done', (s) => summaries.push(s));
    await regions.drain(bus);
    expect(summaries.reduce((n, s) => n + s.foreign, 0)).toBe(undecodable.length);
    const primary = await regions.read(regions.east, stream);
    expect(primary.map((e) => e.id).sort()).toEqual(results.map((r) => (r.ok ? r.id : '')).sort());
  });

  it('holds a shard at an envelope of a later version, saying to upgrade, and loses nothing', async () => {
    const { bus, stream } = await regions.bus();
    regions.east.proxy.setFault({ mode: 'refuse' });
    const results = await bus.sendBatch(batchOf(10, 'later'));
    expect(results.every((r) => r.ok && r.landedOn.tier === 'secondary')).toBe(true);
    await regions.west.admin.send(new PutRecordCommand({ StreamName: stream, PartitionKey: 'newer', Data: Buffer.concat([Buffer.from('SPW'), Buffer.from([3, 0, 1, 2, 3])]) }));
    regions.east.proxy.setFault({ mode: 'none' });
    await waitFor(async () => (await bus.stats()).breakers[0]?.state === 'closed', { timeoutMs: 10_000, intervalMs: 50, message: 'the primary breaker closing' });
    // Drains up to the newer record and stops there, run after run, saying why.
    await bus.reconcile(); // may join a run already going
    const again = await bus.reconcile();
    expect(again.written).toBe(0);
    expect(again.unavailable).toEqual([expect.stringMatching(/^kinesis:us-west-2:/)]);
    // Read shard by shard: every record before the newer one comes out, and the shard holding it stops there.
    const sources = await createKinesisDrainSources({ client: regions.west.admin, region: 'us-west-2', stream, checkpoints: createMemoryCheckpointStore() });
    let read = 0;
    const errors: string[] = [];
    for (const source of sources) {
      for (;;) {
        const chunk = await source.next(100, AbortSignal.timeout(5_000)).catch((e: Error) => void errors.push(e.message));
        if (!chunk) break;
        read += chunk.envelopes.length;
        await chunk.commit();
      }
    }
    expect(read).toBe(10);
    expect(errors).toEqual([expect.stringMatching(/is a spillway envelope of version 3, written by a newer spillway.*upgrade spillway on this reconciler/)]);
    const primary = await regions.read(regions.east, stream);
    expect(primary.map((e) => e.id).sort()).toEqual(results.map((r) => (r.ok ? r.id : '')).sort());
  });

  it('finds a primary write that timed out but landed, so the replay does not duplicate it', async () => {
    const { bus, stream } = await regions.bus({ reconciler: { enabled: false, maxRecordsPerSecond: 1e5, maxBytesPerSecond: 1e9, uncertainSettleMs: 2_500 } });
    // The proxy forwards the PutRecords 1.5 s late, after the client's 1 s timeout: the write lands, the answer is lost.
    regions.east.proxy.setFault({ mode: 'delay', ms: 1_500, operations: ['PutRecords'], times: 1 });
    const results = await bus.sendBatch(batchOf(100, 'ambiguous'));
    expect(results.every((r) => r.ok && r.landedOn.tier === 'secondary')).toBe(true);
    const summaries: ReconcileSummary[] = [];
    bus.events.on('reconciler.done', (s) => summaries.push(s));
    await regions.drain(bus);
    const counts = idCounts(await regions.read(regions.east, stream));
    expect(counts.size).toBe(100);
    expect([...counts.values()].every((n) => n === 1)).toBe(true);
    expect(summaries.reduce((n, s) => n + s.settled, 0)).toBe(100);
    expect(summaries.reduce((n, s) => n + s.written, 0)).toBe(0);
  });
});
