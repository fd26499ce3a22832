/**
 * The drop-in client against real Kinesis emulator processes behind fault
 * proxies: the same caller code runs on `KinesisClient` and on
 * `FailoverKinesisClient`, through a primary outage and a two-region outage,
 * and the primary ends with exactly the caller's bytes, each record once.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  DescribeStreamSummaryCommand,
  KinesisClient,
  ListShardsCommand,
  PutRecordCommand,
  type PutRecordsCommandOutput,
  PutRecordsCommand,
} from '@aws-sdk/client-kinesis';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { FailoverKinesisClient, type FailoverOptions } from '../../src/client/failover-kinesis-client.js';
import { ensureStream, FAKE_CREDENTIALS, readAllRecords } from '../../src/drill/kinesis-admin.js';
import { hasCode, ValidationError } from '../../src/errors/index.js';
import { silentLogger } from '../helpers/bus-parts.js';
import { uniqueName, waitFor } from '../helpers/emulators.js';
import { type Region, useTwoRegions } from '../helpers/two-regions.js';

const regions = useTwoRegions('kinesalite');
const dirs: string[] = [];
const clients: Array<{ destroy(): void; close?(): Promise<void> }> = [];

afterEach(() => {
  regions.east.proxy.setFault({ mode: 'none' });
  regions.west.proxy.setFault({ mode: 'none' });
});
afterAll(async () => {
  for (const c of clients) await (c.close ? c.close().catch(() => undefined) : c.destroy());
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

/** What a caller's code looks like today: plain SDK v3 calls. */
async function callerCode(client: KinesisClient, stream: string, tag: string) {
  const batch = await client.send(
    new PutRecordsCommand({ StreamName: stream, Records: [0, 1, 2].map((i) => ({ Data: Buffer.from(`${tag}-${i}`), PartitionKey: `key-${i}` })) }),
  );
  const single = await client.send(new PutRecordCommand({ StreamName: stream, Data: Buffer.from(`${tag}-single`), PartitionKey: 'key-single' }));
  const summary = await client.send(new DescribeStreamSummaryCommand({ StreamName: stream }));
  return { batch, single, summary };
}

const sdkConfig = (region: Region) => ({
  region: region.name,
  endpoint: region.proxy.url,
  credentials: FAKE_CREDENTIALS,
  maxAttempts: 1,
  requestHandler: new NodeHttpHandler(),
});

async function failoverClient(extra: Partial<FailoverOptions> = {}): Promise<FailoverKinesisClient> {
  const dir = await mkdtemp(join(tmpdir(), 'spillway-dropin-'));
  dirs.push(dir);
  const client = new FailoverKinesisClient({
    ...sdkConfig(regions.east),
    failover: {
      secondaries: [{ kind: 'kinesis', region: regions.west.name, endpoint: regions.west.proxy.url, credentials: FAKE_CREDENTIALS, requestTimeoutMs: 1_000 }],
      spool: { kind: 'disk', dir },
      breaker: { resetTimeoutMs: 300, volumeThreshold: 2 },
      reconciler: { enabled: true, intervalMs: 60_000, maxRecordsPerSecond: 100_000, maxBytesPerSecond: 1e9, uncertainSettleMs: 300 },
      logger: silentLogger,
      ...extra,
    },
  });
  clients.push(client);
  return client;
}

async function bothStreams(): Promise<string> {
  const stream = uniqueName();
  await Promise.all([ensureStream(regions.east.admin, stream, 2), ensureStream(regions.west.admin, stream, 2)]);
  return stream;
}

const text = (data: Uint8Array) => Buffer.from(data).toString('utf8');

describe('FailoverKinesisClient', () => {
  it('answers the same caller code in the same shapes as KinesisClient, and writes the same bytes', async () => {
    const [plainStream, failoverStream] = [await bothStreams(), await bothStreams()];
    const plain = new KinesisClient(sdkConfig(regions.east));
    clients.push(plain);
    const drop = await failoverClient();
    const a = await callerCode(plain, plainStream, 'r');
    const b = await callerCode(drop, failoverStream, 'r');

    for (const out of [a.batch, b.batch]) {
      expect(out.FailedRecordCount).toBe(0);
      expect(out.Records).toHaveLength(3);
      for (const r of out.Records ?? []) {
        expect(r.ShardId).toMatch(/^shardId-\d+$/);
        expect(r.SequenceNumber).toMatch(/^\d+$/);
        expect(r.ErrorCode).toBeUndefined();
      }
      expect(out.$metadata.httpStatusCode).toBe(200);
    }
    expect(Object.keys(b.single).sort()).toEqual(expect.arrayContaining(['SequenceNumber', 'ShardId']));
    expect(b.single.ShardId).toMatch(/^shardId-\d+$/);
    expect(b.summary.StreamDescriptionSummary?.StreamName).toBe(failoverStream);

    const read = async (stream: string) => (await readAllRecords(regions.east.admin, stream)).map((r) => `${r.partitionKey}=${text(r.data)}`).sort();
    expect(await read(failoverStream)).toEqual(await read(plainStream));
    expect(await read(failoverStream)).toEqual(['key-0=r-0', 'key-1=r-1', 'key-2=r-2', 'key-single=r-single']);
  });

  it('keeps the caller\'s records through a primary outage and a two-region outage, then the primary holds each once, byte for byte', async () => {
    const stream = await bothStreams();
    const client = await failoverClient();
    const sent: string[] = [];
    const outputs: PutRecordsCommandOutput[] = [];
    const put = async (phase: string) => {
      for (let round = 0; round < 4; round++) {
        const Records = Array.from({ length: 50 }, (_, i) => ({ Data: Buffer.from(`${phase}-${round}-${i}`), PartitionKey: `customer-${i % 7}` }));
        sent.push(...Records.map((r) => `${r.PartitionKey}=${text(r.Data)}`));
        outputs.push(await client.send(new PutRecordsCommand({ StreamName: stream, Records })));
      }
    };
    await put('healthy');
    regions.east.proxy.setFault({ mode: 'refuse' });
    await put('primary-down');
    regions.west.proxy.setFault({ mode: 'refuse' });
    await put('both-down');
    regions.east.proxy.setFault({ mode: 'none' });
    regions.west.proxy.setFault({ mode: 'none' });

    const entries = outputs.flatMap((o) => o.Records ?? []);
    expect(outputs.every((o) => o.FailedRecordCount === 0)).toBe(true);
    const where = (prefix: string) => entries.filter((e) => e.ShardId?.startsWith(prefix)).length;
    expect(where('shardId-')).toBeGreaterThanOrEqual(200);
    expect(where(`spillway:secondary:kinesis:us-west-2:${stream}`)).toBeGreaterThan(0);
    expect(where('spillway:spool:')).toBeGreaterThan(0);
    expect(where('shardId-') + where('spillway:')).toBe(600);
    expect(entries.filter((e) => e.ShardId?.startsWith('spillway:')).every((e) => e.SequenceNumber?.startsWith('spillway:'))).toBe(true);

    await waitFor(
      async () => {
        const summaries = [...(await client.reconcile()).values()];
        const again = [...(await client.reconcile()).values()];
        const stats = (await client.failoverStats()).get(stream);
        return summaries.every((s) => !s.error) && again.every((s) => !s.error && s.written === 0) && stats?.spool.records === 0;
      },
      { timeoutMs: 60_000, intervalMs: 100, message: 'the drop-in client to drain its spool and secondary' },
    );
    const primary = (await readAllRecords(regions.east.admin, stream)).map((r) => `${r.partitionKey}=${text(r.data)}`);
    expect(primary).toHaveLength(600);
    expect(primary.sort()).toEqual([...sent].sort());
  }, 120_000);

  it('reports records no tier took in their slots, the SDK way, without throwing the batch away', async () => {
    const stream = await bothStreams();
    const client = await failoverClient({ spool: { kind: 'disk', dir: join(await mkdtemp(join(tmpdir(), 'spillway-dropin-full-')), 's'), maxBytes: 1 } });
    regions.east.proxy.setFault({ mode: 'refuse' });
    regions.west.proxy.setFault({ mode: 'refuse' });
    const out = await client.send(new PutRecordsCommand({ StreamName: stream, Records: [0, 1].map((i) => ({ Data: Buffer.from(`x${i}`), PartitionKey: 'k' })) }));
    expect(out.FailedRecordCount).toBe(2);
    for (const r of out.Records ?? []) {
      expect(r.ErrorCode).toBe('InternalFailure');
      expect(r.ErrorMessage).toMatch(/spillway:all-tiers-failed|every tier/i);
      expect(r.ShardId).toBeUndefined();
    }
    await expect(client.send(new PutRecordCommand({ StreamName: stream, Data: Buffer.from('y'), PartitionKey: 'k' }))).rejects.toThrow();
  });

  it('refuses a malformed command whole, before any record of it is written', async () => {
    const stream = await bothStreams();
    const client = await failoverClient();
    const bad = new PutRecordsCommand({ StreamName: stream, Records: [{ Data: Buffer.from('ok'), PartitionKey: 'k' }, { Data: Buffer.from('bad'), PartitionKey: '' }] });
    const error = await client.send(bad).catch((e: unknown) => e);
    expect(hasCode(error, ValidationError.code)).toBe(true);
    expect((error as Error).message).toMatch(/Records\[1\].*partitionKey is empty/);
    await expect(client.send(new PutRecordsCommand({ StreamName: stream, Records: [] }))).rejects.toThrow(/at least one record/);
    expect(await readAllRecords(regions.east.admin, stream)).toHaveLength(0);
  });

  it('serves any number of streams, named or by ARN, passes other commands through, and applies the caller\'s middleware', async () => {
    const [s1, s2] = [await bothStreams(), await bothStreams()];
    const client = await failoverClient();
    let putRequests = 0;
    client.middlewareStack.add(
      (next, context) => async (args) => {
        if (context.commandName === 'PutRecordsCommand') putRequests++;
        return next(args);
      },
      { step: 'initialize', name: 'countPuts' },
    );
    await client.send(new PutRecordsCommand({ StreamName: s1, Records: [{ Data: Buffer.from('one'), PartitionKey: 'k' }] }));
    await client.send(new PutRecordsCommand({ StreamARN: `arn:aws:kinesis:us-east-1:000000000000:stream/${s2}`, Records: [{ Data: Buffer.from('two'), PartitionKey: 'k' }] }));
    expect(putRequests).toBe(2);
    const shards = await client.send(new ListShardsCommand({ StreamName: s1 }));
    expect(shards.Shards).toHaveLength(2);
    expect((await readAllRecords(regions.east.admin, s1)).map((r) => text(r.data))).toEqual(['one']);
    expect((await readAllRecords(regions.east.admin, s2)).map((r) => text(r.data))).toEqual(['two']);
  });

  it('writes spillway envelopes to the primary when asked, and refuses sends once closed', async () => {
    const stream = await bothStreams();
    const client = await failoverClient({ envelope: 'spillway' });
    await client.send(new PutRecordCommand({ StreamName: stream, Data: Buffer.from('wrapped'), PartitionKey: 'k' }));
    const [record] = await readAllRecords(regions.east.admin, stream);
    expect(Buffer.from(record?.data ?? []).subarray(0, 3).toString('latin1')).toBe('SPW');
    await client.close();
    await expect(client.send(new PutRecordCommand({ StreamName: stream, Data: Buffer.from('late'), PartitionKey: 'k' }))).rejects.toThrow(/closed/);
  });

  describe('raw mode and writes of unknown fate', () => {
    const ambiguousWrite = async (client: FailoverKinesisClient, stream: string) => {
      // The proxy forwards the PutRecords 1.5 s late, after the client's 1 s timeout: the write lands, the answer is lost.
      regions.east.proxy.setFault({ mode: 'delay', ms: 1_500, operations: ['PutRecords'], times: 1 });
      const Records = Array.from({ length: 40 }, (_, i) => ({ Data: Buffer.from(`ambiguous-${i}`), PartitionKey: `k-${i % 5}` }));
      const out = await client.send(new PutRecordsCommand({ StreamName: stream, Records }));
      expect(out.Records?.every((r) => r.ShardId === `spillway:secondary:kinesis:us-west-2:${stream}`)).toBe(true);
      return Records.map((r) => `${r.PartitionKey}=${text(r.Data)}`);
    };
    const drainAll = (client: FailoverKinesisClient) =>
      waitFor(
        async () => {
          await client.reconcile();
          const again = [...(await client.reconcile()).values()];
          return again.every((s) => !s.error && s.written === 0);
        },
        { timeoutMs: 60_000, intervalMs: 100, message: 'the drain' },
      );
    const quiet = { reconciler: { enabled: false, maxRecordsPerSecond: 1e5, maxBytesPerSecond: 1e9, uncertainSettleMs: 2_500 }, requestTimeoutMs: 1_000 };

    it('recognises a write that timed out but landed by its content, so the replay does not duplicate it', async () => {
      const stream = await bothStreams();
      const client = await failoverClient(quiet);
      const sent = await ambiguousWrite(client, stream);
      await drainAll(client);
      const primary = (await readAllRecords(regions.east.admin, stream)).map((r) => `${r.partitionKey}=${text(r.data)}`);
      expect(primary.sort()).toEqual([...sent].sort());
    });

    it('cannot recognise it in a new process that never saw the write: those records can land twice (documented)', async () => {
      const stream = await bothStreams();
      const dir = await mkdtemp(join(tmpdir(), 'spillway-dropin-restart-'));
      dirs.push(dir);
      const first = await failoverClient({ ...quiet, spool: { kind: 'disk', dir } });
      const sent = await ambiguousWrite(first, stream);
      await first.close();
      const second = await failoverClient({ ...quiet, spool: { kind: 'disk', dir } });
      await second.send(new PutRecordCommand({ StreamName: stream, Data: Buffer.from('after-restart'), PartitionKey: 'k-0' }));
      await drainAll(second);
      const primary = (await readAllRecords(regions.east.admin, stream)).map((r) => `${r.partitionKey}=${text(r.data)}`);
      const counts = new Map<string, number>();
      for (const p of primary) counts.set(p, (counts.get(p) ?? 0) + 1);
      expect(sent.every((s) => counts.get(s) === 2)).toBe(true);
      expect(counts.get('k-0=after-restart')).toBe(1);
    });
  });
});
