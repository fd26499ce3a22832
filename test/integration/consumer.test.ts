/**
 * The consumer against two real kinesalite regions behind fault proxies, a
 * disk spool and the reconciler: records written to primary, secondary and
 * spool during an outage are each handled once; a restart of the group
 * delivers only new records; a failing handler is retried, dead-lettered,
 * and the rest of the shard continues.
 */
import { PutRecordsCommand } from '@aws-sdk/client-kinesis';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createDiskSpool } from '../../adapters/disk/index.js';
import { createMemoryCheckpointStore, createMemoryDedupeStore } from '../../adapters/memory/index.js';
import type { BusConfigInput } from '../../src/config/schema.js';
import { createConsumer, type Consumer } from '../../src/consumer/index.js';
import type { ConsumedRecord, ConsumerOptions } from '../../src/consumer/types.js';
import { createBus } from '../../src/bus/create-bus.js';
import { ensureStream, FAKE_CREDENTIALS, readAllRecords } from '../../src/drill/kinesis-admin.js';
import { silentLogger } from '../helpers/bus-parts.js';
import { uniqueName, waitFor } from '../helpers/emulators.js';
import { type Region, useTwoRegions } from '../helpers/two-regions.js';

const batchOf = (n: number, phase: string) => Array.from({ length: n }, (_, i) => ({ partitionKey: `customer-${i % 20}`, data: { phase, i } }));

function busConfig(east: Region, west: Region, stream: string, spoolDir: string): BusConfigInput {
  return {
    primary: { kind: 'kinesis', region: east.name, stream, endpoint: east.proxy.url, credentials: FAKE_CREDENTIALS },
    secondaries: [{ kind: 'kinesis', region: west.name, stream, endpoint: west.proxy.url, credentials: FAKE_CREDENTIALS }],
    spool: { kind: 'disk', dir: spoolDir },
  };
}

/** A consumer collecting what its handler saw. */
async function collect(config: BusConfigInput, options: Partial<ConsumerOptions> & { fail?: (r: ConsumedRecord) => boolean } = {}) {
  const seen: ConsumedRecord[] = [];
  const consumer: Consumer = await createConsumer(config, { group: 'g1', idlePollMs: 50, retry: { baseDelayMs: 20, maxDelayMs: 200 }, logger: silentLogger, ...options });
  const duplicates: string[] = [];
  consumer.events.on('consumer.duplicate', ({ id }) => duplicates.push(id));
  const running = consumer.run(async (record) => {
    if (options.fail?.(record)) throw new Error(`handler refuses ${record.id}`);
    seen.push(record);
  });
  return { consumer, seen, duplicates, running };
}

describe('consumer (kinesalite, two regions)', () => {
  const regions = useTwoRegions('kinesalite');

  it('delivers records from primary, secondary and spool exactly once, and a restart delivers only new ones', async () => {
    const { bus, stream, spoolDir } = await regions.bus();
    const config = busConfig(regions.east, regions.west, stream, spoolDir);
    const first = await collect(config);
    const sent: string[] = [];
    const tiers = { primary: 0, secondary: 0, spool: 0 };
    const phase = async (name: string) => {
      for (const r of await bus.sendBatch(batchOf(200, name))) {
        if (!r.ok) throw r.error;
        sent.push(r.id);
        tiers[r.landedOn.tier]++;
      }
    };
    await phase('healthy');
    regions.east.proxy.setFault({ mode: 'refuse' });
    await phase('primary-down');
    regions.west.proxy.setFault({ mode: 'refuse' });
    await phase('both-down');
    regions.east.proxy.setFault({ mode: 'none' });
    regions.west.proxy.setFault({ mode: 'none' });
    expect(tiers.primary).toBeGreaterThan(0);
    expect(tiers.secondary).toBeGreaterThan(0);
    expect(tiers.spool).toBeGreaterThan(0);
    await regions.drain(bus);

    // Every id handled; the secondary's copies (also drained into the primary) were dropped as duplicates.
    await waitFor(() => new Set(first.seen.map((r) => r.id)).size >= 600 && (first.duplicates.length >= 200 || first.seen.length > 600), { timeoutMs: 30_000, message: 'all 600 records and 200 duplicates' });
    const ids = first.seen.map((r) => r.id);
    expect(new Set(ids).size).toBe(ids.length);
    expect(new Set(ids)).toEqual(new Set(sent));
    expect(first.seen.filter((r) => r.tier === 'secondary').length).toBeGreaterThan(0);
    await first.consumer.close();
    await first.running;

    // The same group again: only records sent after the restart.
    const second = await collect(config);
    const later: string[] = [];
    for (const r of await bus.sendBatch(batchOf(50, 'after-restart'))) if (r.ok) later.push(r.id);
    await waitFor(() => second.seen.length >= 50, { timeoutMs: 20_000, message: 'the 50 new records' });
    // Every shard of both streams read to its tip after the new records: nothing older is coming.
    let tipsSeen = 0;
    second.consumer.events.on('consumer.lag', ({ millisBehind }) => millisBehind === 0 && tipsSeen++);
    await waitFor(() => tipsSeen >= 8, { timeoutMs: 10_000, message: 'every shard read to its tip' });
    expect(second.seen.map((r) => r.id).sort()).toEqual([...later].sort());
    await second.consumer.close();
  }, 90_000);

  it('retries a failing handler, dead-letters the record, and the rest of the shard continues in order', async () => {
    const { bus, stream, spoolDir } = await regions.bus({}, 1);
    const config = busConfig(regions.east, regions.west, stream, spoolDir);
    const results = await bus.sendBatch(batchOf(100, 'poison'));
    const poison = results[37]?.ok ? results[37].id : '';
    let attempts = 0;
    const c = await collect(config, { retry: { maxAttempts: 3, baseDelayMs: 5, maxDelayMs: 20 }, fail: (r) => r.id === poison && ++attempts > 0 });
    const dead: string[] = [];
    c.consumer.events.on('consumer.deadLetter', ({ id }) => dead.push(id));
    await waitFor(() => c.seen.length >= 99 && dead.length === 1, { timeoutMs: 20_000, message: '99 records handled and one dead-lettered' });
    expect(attempts).toBe(3);
    expect(dead).toEqual([poison]);
    expect(c.seen.map((r) => r.id)).not.toContain(poison);
    // Per key, in send order.
    const byKey = new Map<string, number[]>();
    for (const r of c.seen) byKey.set(r.partitionKey, [...(byKey.get(r.partitionKey) ?? []), (JSON.parse(Buffer.from(r.data).toString()) as { i: number }).i]);
    for (const order of byKey.values()) expect(order).toEqual([...order].sort((a, b) => a - b));
    await c.consumer.close();
    // The dead letter is durably held.
    const dl = await createDiskSpool({ dir: join(spoolDir, 'state', 'consumer', 'g1', 'dead-letter') });
    const lease = await dl.lease(10);
    expect(lease.envelopes.map((e) => e.id)).toEqual([poison]);
    await dl.close();
  }, 60_000);

  it('passes records without an envelope through with an id from shard and sequence number', async () => {
    const { stream, spoolDir } = await regions.bus({}, 1);
    await regions.east.admin.send(new PutRecordsCommand({ StreamName: stream, Records: [1, 2, 3].map((n) => ({ PartitionKey: 'raw', Data: Buffer.from(`plain-${n}`) })) }));
    const c = await collect(busConfig(regions.east, regions.west, stream, spoolDir));
    await waitFor(() => c.seen.length >= 3, { timeoutMs: 10_000, message: 'three raw records' });
    expect(c.seen.map((r) => Buffer.from(r.data).toString())).toEqual(['plain-1', 'plain-2', 'plain-3']);
    expect(c.seen.every((r) => !r.enveloped && r.id === `raw:us-east-1:${stream}:${r.shardId}:${r.sequenceNumber}`)).toBe(true);
    await c.consumer.close();
  }, 30_000);

  it('unpacks KPL aggregates from an aggregating primary: each record once, per key in order; a restart inside an aggregate loses and repeats nothing', async () => {
    const stream = uniqueName();
    await ensureStream(regions.east.admin, stream, 2);
    const spoolDir = await mkdtemp(join(tmpdir(), 'spillway-agg-'));
    const config: BusConfigInput = {
      primary: { kind: 'kinesis', region: regions.east.name, stream, endpoint: regions.east.proxy.url, credentials: FAKE_CREDENTIALS, aggregate: { maxAggregateBytes: 4_000 } },
      spool: { kind: 'disk', dir: spoolDir },
      reconciler: { enabled: false },
    };
    const bus = await createBus(config, { logger: silentLogger });
    try {
      const sent: string[] = [];
      for (const r of await bus.sendBatch(batchOf(300, 'aggregated'))) {
        if (!r.ok) throw r.error;
        sent.push(r.id);
      }
      // Few Kinesis records hold the 300.
      expect((await readAllRecords(regions.east.admin, stream)).length).toBeLessThan(30);

      // A first consumer stops after 45 records: mid-aggregate (each holds about 40 of these records).
      const first: ConsumedRecord[] = [];
      for await (const record of await createConsumer(config, { group: 'agg', idlePollMs: 50, logger: silentLogger, concurrency: 1 })) {
        first.push(record);
        if (first.length === 45) break;
      }
      expect(first.every((r) => r.subSequenceCount !== undefined && r.subSequenceCount > 1)).toBe(true);
      const c = await collect(config, { group: 'agg' });
      await waitFor(() => new Set([...first.slice(0, 44), ...c.seen].map((r) => r.id)).size >= 300, { timeoutMs: 20_000, message: 'all 300 records across the restart' });
      // Nothing lost, nothing handled twice: the second consumer re-read the unfinished aggregate whole and its
      // dedupe store dropped the records the first had finished.
      const all = [...first.slice(0, 44), ...c.seen].map((r) => r.id);
      expect(all.filter((id, i) => all.indexOf(id) !== i)).toEqual([]);
      expect(new Set(all)).toEqual(new Set(sent));
      expect(c.duplicates.length).toBeGreaterThan(0);
      // Per key, in send order, within each consumer.
      for (const seen of [first, c.seen]) {
        const byKey = new Map<string, number[]>();
        for (const r of seen) byKey.set(r.partitionKey, [...(byKey.get(r.partitionKey) ?? []), (JSON.parse(Buffer.from(r.data).toString()) as { i: number }).i]);
        for (const order of byKey.values()) expect(order).toEqual([...order].sort((a, b) => a - b));
      }
      await c.consumer.close();

      // With readLimit 10 a page is 10 Kinesis records, about 400 user records here: they are handed over, and checked
      // against the dedupe store, at most 10 at a time.
      const dedupe = createMemoryDedupeStore();
      let largestCheck = 0;
      const counted = { ...dedupe, close: () => dedupe.close(), markSeen: dedupe.markSeen.bind(dedupe), filterUnseen: (ids: readonly string[]) => ((largestCheck = Math.max(largestCheck, ids.length)), dedupe.filterUnseen(ids)) };
      const small = await collect(config, { group: 'agg-small', readLimit: 10, stores: { checkpoints: createMemoryCheckpointStore(), dedupe: counted } });
      await waitFor(() => small.seen.length >= 300, { timeoutMs: 20_000, message: 'all 300 records with readLimit 10' });
      expect(new Set(small.seen.map((r) => r.id))).toEqual(new Set(sent));
      expect(small.seen).toHaveLength(300);
      expect(largestCheck).toBeGreaterThan(0);
      expect(largestCheck).toBeLessThanOrEqual(10);
      await small.consumer.close();
    } finally {
      await bus.close();
      await rm(spoolDir, { recursive: true, force: true });
    }
  }, 60_000);

  it('iterates with for await: a record counts as handled when the next is asked for; leaving the loop keeps the rest', async () => {
    const { stream, spoolDir } = await regions.bus({}, 1);
    await regions.east.admin.send(new PutRecordsCommand({ StreamName: stream, Records: [1, 2, 3].map((n) => ({ PartitionKey: 'same-key', Data: Buffer.from(`r${n}`) })) }));
    const config = busConfig(regions.east, regions.west, stream, spoolDir);
    const open = () => createConsumer(config, { group: 'iter', idlePollMs: 50, logger: silentLogger });
    const first: string[] = [];
    for await (const record of await open()) {
      first.push(Buffer.from(record.data).toString());
      if (first.length === 2) break; // r2 was being handled: not checkpointed
    }
    expect(first).toEqual(['r1', 'r2']);
    const second: string[] = [];
    for await (const record of await open()) {
      second.push(Buffer.from(record.data).toString());
      if (second.length === 2) break;
    }
    expect(second).toEqual(['r2', 'r3']);
  }, 30_000);
});
