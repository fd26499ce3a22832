/**
 * Where the drop-in client must behave like `KinesisClient`, checked against
 * a real Kinesis emulator (kinesalite) behind a fault proxy, counting what
 * the stream holds, and side by side with the real SDK client where it helps:
 * commands from the app's own copy of the SDK, the per-call PutRecords limits,
 * `Data` as a string, a missing stream, and `abortSignal`.
 */
import { cp, mkdir, mkdtemp, readdir, rm, symlink } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { KinesisClient, PutRecordCommand, PutRecordsCommand, ResourceNotFoundException } from '@aws-sdk/client-kinesis';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { FailoverKinesisClient } from '../../src/client/failover-kinesis-client.js';
import { type FaultProxy, startFaultProxy } from '../../src/drill/fault-proxy.js';
import { FAKE_CREDENTIALS, readAllRecords } from '../../src/drill/kinesis-admin.js';
import { ConfigError, hasCode, isSpillwayError, ValidationError } from '../../src/errors/index.js';
import { silentLogger } from '../helpers/bus-parts.js';
import { useKinesisEmulator, waitFor } from '../helpers/emulators.js';

const kinesis = useKinesisEmulator('kinesalite');
let proxy: FaultProxy;
const dirs: string[] = [];
const clients: Array<{ destroy(): void; close?(): Promise<void> }> = [];

beforeAll(async () => {
  proxy = await startFaultProxy({ target: kinesis.endpoint });
});
afterEach(() => proxy.setFault({ mode: 'none' }));
afterAll(async () => {
  for (const c of clients) await (c.close ? c.close().catch(() => undefined) : c.destroy());
  await proxy?.close();
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

const sdkConfig = () => ({ region: 'us-east-1', endpoint: proxy.url, credentials: FAKE_CREDENTIALS, maxAttempts: 1, requestHandler: new NodeHttpHandler() });

async function failoverClient(): Promise<FailoverKinesisClient> {
  const dir = await mkdtemp(join(tmpdir(), 'spillway-dropin-parity-'));
  dirs.push(dir);
  const client = new FailoverKinesisClient({
    ...sdkConfig(),
    failover: { spool: { kind: 'disk', dir }, breaker: { resetTimeoutMs: 300, volumeThreshold: 2 }, reconciler: { enabled: false, uncertainSettleMs: 300 }, logger: silentLogger },
  });
  clients.push(client);
  return client;
}

function plainClient(): KinesisClient {
  const client = new KinesisClient(sdkConfig());
  clients.push(client);
  return client;
}

const stored = async (stream: string) => (await readAllRecords(kinesis.client, stream)).map((r) => `${r.partitionKey}=${Buffer.from(r.data).toString('utf8')}`);
const records = (n: number, size: number, tag = 'r') => Array.from({ length: n }, (_, i) => ({ Data: Buffer.alloc(size, tag), PartitionKey: `k${i}` }));

/**
 * A second, separate copy of @aws-sdk/client-kinesis, as an app on another SDK
 * version has: the package's files copied to a temp dir, its dependencies
 * linked to this project's, loaded with its own `require`.
 */
async function secondSdkCopy(): Promise<typeof import('@aws-sdk/client-kinesis')> {
  const root = await mkdtemp(join(tmpdir(), 'spillway-sdk-copy-'));
  dirs.push(root);
  const ours = resolve('node_modules');
  const modules = join(root, 'node_modules');
  await mkdir(join(modules, '@aws-sdk'), { recursive: true });
  for (const entry of await readdir(ours)) if (entry !== '@aws-sdk' && !entry.startsWith('.')) await symlink(join(ours, entry), join(modules, entry));
  for (const entry of await readdir(join(ours, '@aws-sdk'))) if (entry !== 'client-kinesis') await symlink(join(ours, '@aws-sdk', entry), join(modules, '@aws-sdk', entry));
  const pkg = join(modules, '@aws-sdk', 'client-kinesis');
  await cp(join(ours, '@aws-sdk', 'client-kinesis', 'package.json'), join(pkg, 'package.json'));
  await cp(join(ours, '@aws-sdk', 'client-kinesis', 'dist-cjs'), join(pkg, 'dist-cjs'), { recursive: true });
  return createRequire(join(root, 'app.js'))('@aws-sdk/client-kinesis') as typeof import('@aws-sdk/client-kinesis');
}

describe('FailoverKinesisClient, like KinesisClient', () => {
  it("fails over the commands of the app's own copy of the SDK, and passes its other commands through", async () => {
    const copy = await secondSdkCopy();
    expect(copy.PutRecordsCommand).not.toBe(PutRecordsCommand);
    expect(new copy.PutRecordsCommand({ StreamName: 's', Records: [] })).not.toBeInstanceOf(PutRecordsCommand);
    const stream = await kinesis.createStream(1);
    const client = await failoverClient();
    await client.send(new copy.PutRecordsCommand({ StreamName: stream, Records: [{ Data: Buffer.from('warm'), PartitionKey: 'k' }] }));

    proxy.setFault({ mode: 'refuse' });
    const batch = await client.send(new copy.PutRecordsCommand({ StreamName: stream, Records: [{ Data: Buffer.from('batch'), PartitionKey: 'k' }] }));
    const single = await client.send(new copy.PutRecordCommand({ StreamName: stream, Data: Buffer.from('single'), PartitionKey: 'k' }));
    expect(batch.FailedRecordCount).toBe(0);
    expect(batch.Records?.[0]?.ShardId).toMatch(/^spillway:spool:/);
    expect(single.ShardId).toMatch(/^spillway:spool:/);
    proxy.setFault({ mode: 'none' });

    const shards = await client.send(new copy.ListShardsCommand({ StreamName: stream }));
    expect(shards.Shards).toHaveLength(1);
    await waitFor(async () => (await client.reconcile()).get(stream)?.error === undefined && (await client.failoverStats()).get(stream)?.spool.records === 0, {
      timeoutMs: 30_000,
      intervalMs: 100,
      message: 'the spool to drain',
    });
    expect((await stored(stream)).sort()).toEqual(['k=batch', 'k=single', 'k=warm']);
  });

  it('refuses a PutRecords over 500 records or over 10 MiB whole, as Kinesis does, and writes nothing', async () => {
    const [sdkStream, stream] = [await kinesis.createStream(1), await kinesis.createStream(1)];
    const plain = plainClient();
    const client = await failoverClient();
    const tooMany = (s: string) => new PutRecordsCommand({ StreamName: s, Records: records(501, 10) });
    const tooBig = (s: string) => new PutRecordsCommand({ StreamName: s, Records: records(11, 1_000_000) });

    await expect(plain.send(tooMany(sdkStream))).rejects.toMatchObject({ name: 'ValidationException' });
    // kinesalite answers an oversized call with an HTTP error the SDK cannot name: an answer, not a failure to connect.
    const answered = (error: unknown) => expect((error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode).toBeGreaterThanOrEqual(400);
    answered(await plain.send(tooBig(sdkStream)).catch((e: unknown) => e));
    const many = await client.send(tooMany(stream)).catch((e: unknown) => e);
    expect(hasCode(many, ValidationError.code)).toBe(true);
    expect((many as Error).message).toMatch(/at most 500 records per call, got 501; split Records/);
    const big = await client.send(tooBig(stream)).catch((e: unknown) => e);
    expect(hasCode(big, ValidationError.code)).toBe(true);
    expect((big as Error).message).toMatch(/at most 10485760 bytes per call \(data plus partition keys\), got 11000023/);
    expect(await stored(sdkStream)).toHaveLength(0);
    expect(await stored(stream)).toHaveLength(0);

    await client.send(new PutRecordsCommand({ StreamName: stream, Records: records(500, 10) }));
    expect(await stored(stream)).toHaveLength(500);
    // 6 MB: Kinesis takes it (up to 10 MiB per request), kinesalite does not (5 MiB); spillway sends it as calls of at most 5 MiB.
    answered(await plain.send(new PutRecordsCommand({ StreamName: sdkStream, Records: records(6, 1_000_000) })).catch((e: unknown) => e));
    const six = await client.send(new PutRecordsCommand({ StreamName: stream, Records: records(6, 1_000_000) }));
    expect(six.FailedRecordCount).toBe(0);
    expect(await stored(stream)).toHaveLength(506);
  }, 60_000);

  it('stores Data given as a string as its UTF-8 bytes, as the SDK does', async () => {
    const [sdkStream, stream] = [await kinesis.createStream(1), await kinesis.createStream(1)];
    const plain = plainClient();
    const client = await failoverClient();
    const caller = async (c: KinesisClient, s: string) => {
      await c.send(new PutRecordsCommand({ StreamName: s, Records: [{ Data: 'héllo' as unknown as Uint8Array, PartitionKey: 'a' }] }));
      await c.send(new PutRecordCommand({ StreamName: s, Data: '{"n":1}' as unknown as Uint8Array, PartitionKey: 'b' }));
    };
    await caller(plain, sdkStream);
    await caller(client, stream);
    expect(await stored(sdkStream)).toEqual(['a=héllo', 'b={"n":1}']);
    expect(await stored(stream)).toEqual(await stored(sdkStream));
  });

  it("names a missing stream ResourceNotFoundException, as the SDK does, while staying spillway's ConfigError", async () => {
    const plain = plainClient();
    const client = await failoverClient();
    const missing = `missing-${Date.now()}`;
    const sdkError = await plain.send(new PutRecordsCommand({ StreamName: missing, Records: records(1, 1) })).catch((e: unknown) => e);
    for (const command of [new PutRecordsCommand({ StreamName: missing, Records: records(1, 1) }), new PutRecordCommand({ StreamName: missing, Data: Buffer.from('x'), PartitionKey: 'k' })]) {
      const error = await client.send(command as PutRecordsCommand).catch((e: unknown) => e);
      expect((error as Error).name).toBe((sdkError as Error).name);
      expect(error).toBeInstanceOf(ResourceNotFoundException);
      expect(error).toBeInstanceOf(ConfigError);
      expect(isSpillwayError(error) && error.code).toBe(ConfigError.code);
      expect((error as Error).message).toContain(`stream "${missing}" does not exist in us-east-1`);
    }
    // A name Kinesis would refuse is not a missing stream: it stays the configuration error it is.
    const badName = await client.send(new PutRecordCommand({ StreamName: 'bad name!', Data: Buffer.from('x'), PartitionKey: 'k' })).catch((e: unknown) => e);
    expect(hasCode(badName, ConfigError.code)).toBe(true);
    expect((badName as Error).name).not.toBe('ResourceNotFoundException');
    expect((badName as Error).message).not.toMatch(/does not exist/);
  });

  it('rejects a Put with an already-aborted signal before anything is written, as the SDK does', async () => {
    const stream = await kinesis.createStream(1);
    const plain = plainClient();
    const client = await failoverClient();
    const controller = new AbortController();
    controller.abort();
    const put = () => new PutRecordsCommand({ StreamName: stream, Records: [{ Data: Buffer.from('aborted'), PartitionKey: 'k' }] });
    await expect(plain.send(put(), { abortSignal: controller.signal })).rejects.toMatchObject({ name: 'AbortError' });
    await expect(client.send(put(), { abortSignal: controller.signal })).rejects.toMatchObject({ name: 'AbortError', message: 'Request aborted' });
    const viaCallback = await new Promise<unknown>((done) => client.send(put(), { abortSignal: controller.signal }, (error) => done(error)));
    expect(viaCallback).toMatchObject({ name: 'AbortError' });
    await client.send(new PutRecordCommand({ StreamName: stream, Data: Buffer.from('after'), PartitionKey: 'k' }));
    expect(await stored(stream)).toEqual(['k=after']);
    expect((await client.failoverStats()).get(stream)?.spool.records).toBe(0);
  });

  it('rejects at once on an abort while the write is under way; the record may still land (documented)', async () => {
    const stream = await kinesis.createStream(1);
    const client = await failoverClient();
    await client.send(new PutRecordCommand({ StreamName: stream, Data: Buffer.from('warm'), PartitionKey: 'k' }));
    proxy.setFault({ mode: 'delay', ms: 1_500, operations: ['PutRecords'], times: 1 });
    const controller = new AbortController();
    const started = Date.now();
    const pending = client.send(new PutRecordsCommand({ StreamName: stream, Records: [{ Data: Buffer.from('slow'), PartitionKey: 'k' }] }), { abortSignal: controller.signal });
    setTimeout(() => controller.abort(), 200);
    await expect(pending).rejects.toMatchObject({ name: 'AbortError' });
    expect(Date.now() - started).toBeLessThan(1_200);
    await waitFor(async () => (await stored(stream)).length === 2, { timeoutMs: 10_000, intervalMs: 100, message: 'the aborted write to land anyway' });
    expect(await stored(stream)).toEqual(['k=warm', 'k=slow']);
  });
});
