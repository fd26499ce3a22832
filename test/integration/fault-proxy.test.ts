import { performance } from 'node:perf_hooks';
import {
  DescribeStreamSummaryCommand,
  ListStreamsCommand,
  PutRecordCommand,
  PutRecordsCommand,
  type KinesisClient,
  type PutRecordsCommandOutput,
} from '@aws-sdk/client-kinesis';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { startFaultProxy, type Fault, type FaultProxy } from '../../src/drill/fault-proxy.js';
import { createKinesisClientFor, readAllRecords } from '../../src/drill/kinesis-admin.js';
import { useKinesisEmulator, waitFor } from '../helpers/emulators.js';

const kinesis = useKinesisEmulator('kinesalite');
const encoder = new TextEncoder();
const decoder = new TextDecoder();
const clients: KinesisClient[] = [];
let proxy: FaultProxy;
let client: KinesisClient;

function proxiedClient(overrides = {}): KinesisClient {
  const created = createKinesisClientFor(proxy.url, 'us-east-1', overrides);
  clients.push(created);
  return created;
}

function putBatch(via: KinesisClient, stream: string, count: number): Promise<PutRecordsCommandOutput> {
  const Records = Array.from({ length: count }, (_, i) => ({ Data: encoder.encode(`r${i}`), PartitionKey: `k${i}` }));
  return via.send(new PutRecordsCommand({ StreamName: stream, Records }));
}

async function storedPayloads(stream: string): Promise<string[]> {
  const records = await readAllRecords(kinesis.client, stream);
  return records.map((r) => decoder.decode(r.data)).sort();
}

const listStreams = (via: KinesisClient) => via.send(new ListStreamsCommand({}));

beforeEach(async () => {
  proxy = await startFaultProxy({ target: kinesis.endpoint });
  client = proxiedClient();
});

afterEach(async () => {
  for (const created of clients.splice(0)) created.destroy();
  await proxy.close();
});

describe('pass-through', () => {
  it('forwards AWS JSON 1.1 requests over one keep-alive connection and counts them', async () => {
    const stream = await kinesis.createStream();
    for (let i = 0; i < 5; i += 1) await listStreams(client);
    await client.send(new DescribeStreamSummaryCommand({ StreamName: stream }));
    const stats = proxy.stats();
    expect(stats.total).toBe(6);
    expect(stats.connections).toBe(1);
    expect(stats.byOperation).toEqual({ ListStreams: 5, DescribeStreamSummary: 1 });
    expect(stats.contentTypes).toEqual({ 'application/x-amz-json-1.1': 6 });
    expect(Object.values(stats.faulted).every((n) => n === 0)).toBe(true);
  });

  it('writes records through the proxy unchanged', async () => {
    const stream = await kinesis.createStream(2);
    const put = await putBatch(client, stream, 12);
    expect(put.FailedRecordCount).toBe(0);
    expect(await storedPayloads(stream)).toEqual(Array.from({ length: 12 }, (_, i) => `r${i}`).sort());
  });
});

describe('refuse', () => {
  it('refuses new connections and re-listens on the same port when cleared', async () => {
    await listStreams(client); // leaves a pooled keep-alive socket
    const url = proxy.url;
    proxy.setFault({ mode: 'refuse' });
    await expect(listStreams(proxiedClient())).rejects.toMatchObject({ code: 'ECONNREFUSED' });
    await expect(listStreams(client)).rejects.toMatchObject({ code: expect.stringMatching(/ECONNREFUSED|ECONNRESET|EPIPE/) });
    proxy.setFault({ mode: 'none' });
    expect(proxy.url).toBe(url);
    await expect(listStreams(client)).resolves.toBeDefined();
    await expect(listStreams(proxiedClient())).resolves.toBeDefined();
    expect(proxy.stats().byOperation).toEqual({ ListStreams: 3 });
  });

  it('resets only the limited operation, the given number of times', async () => {
    const stream = await kinesis.createStream();
    proxy.setFault({ mode: 'refuse', operations: ['PutRecord'], times: 1 });
    await expect(listStreams(client)).resolves.toBeDefined();
    const put = () => client.send(new PutRecordCommand({ StreamName: stream, Data: encoder.encode('x'), PartitionKey: 'k' }));
    await expect(put()).rejects.toMatchObject({ code: 'ECONNRESET' });
    await expect(put()).resolves.toMatchObject({ ShardId: 'shardId-000000000000' });
    expect(proxy.stats().faulted.refuse).toBe(1);
    expect(await storedPayloads(stream)).toEqual(['x']);
  });
});

describe('hang', () => {
  it('holds the request until the client aborts, then releases it when the fault changes', async () => {
    const stream = await kinesis.createStream();
    proxy.setFault({ mode: 'hang' });
    const hung = putBatch(client, stream, 3);
    const aborted = client.send(new ListStreamsCommand({}), { abortSignal: AbortSignal.timeout(300) });
    await expect(aborted).rejects.toMatchObject({ name: 'AbortError' });
    proxy.setFault({ mode: 'none' });
    await expect(hung).rejects.toMatchObject({ code: 'ECONNRESET' });
    expect(proxy.stats().faulted.hang).toBe(2);
    expect(await storedPayloads(stream)).toEqual([]);
    await expect(putBatch(client, stream, 2)).resolves.toMatchObject({ FailedRecordCount: 0 });
  });

  it('trips the SDK request timeout when throwOnRequestTimeout is set', async () => {
    proxy.setFault({ mode: 'hang', times: 1 });
    const handler = new NodeHttpHandler({ requestTimeout: 200, throwOnRequestTimeout: true });
    const impatient = proxiedClient({ requestHandler: handler });
    await expect(listStreams(impatient)).rejects.toMatchObject({ name: 'TimeoutError', code: 'ETIMEDOUT' });
    await expect(listStreams(impatient)).resolves.toBeDefined();
  });

  it('only warns on requestTimeout without throwOnRequestTimeout (smithy 4.14 default)', async () => {
    proxy.setFault({ mode: 'hang', times: 1 });
    const logger = { debug: vi.fn(), info: vi.fn(), warn: vi.fn(), error: vi.fn() };
    const lenient = proxiedClient({ requestHandler: new NodeHttpHandler({ requestTimeout: 100, logger }) });
    const call = listStreams(lenient);
    await waitFor(() => logger.warn.mock.calls.length > 0, { message: 'the requestTimeout warning' });
    proxy.setFault({ mode: 'none' }); // releases the hung socket: only now does the call fail
    await expect(call).rejects.toMatchObject({ code: 'ECONNRESET' });
  });
});

describe('delay', () => {
  it('forwards after the delay', async () => {
    proxy.setFault({ mode: 'delay', ms: 300, times: 1 });
    const started = performance.now();
    await expect(listStreams(client)).resolves.toBeDefined();
    expect(performance.now() - started).toBeGreaterThanOrEqual(295);
    expect(proxy.stats().faulted.delay).toBe(1);
  });
});

describe('synthesised errors', () => {
  it('error500 answers InternalFailure 500 without forwarding', async () => {
    const stream = await kinesis.createStream();
    proxy.setFault({ mode: 'error500' });
    await expect(putBatch(client, stream, 3)).rejects.toMatchObject({
      name: 'InternalFailure',
      $fault: 'server',
      $metadata: { httpStatusCode: 500 },
    });
    expect(await storedPayloads(stream)).toEqual([]);
  });

  it('throttle answers ProvisionedThroughputExceededException 400 without forwarding', async () => {
    const stream = await kinesis.createStream();
    proxy.setFault({ mode: 'throttle' });
    await expect(putBatch(client, stream, 3)).rejects.toMatchObject({
      name: 'ProvisionedThroughputExceededException',
      $fault: 'client',
      $metadata: { httpStatusCode: 400 },
    });
    expect(await storedPayloads(stream)).toEqual([]);
  });

  it('applies only to the listed operations', async () => {
    const stream = await kinesis.createStream();
    proxy.setFault({ mode: 'throttle', operations: ['PutRecords'] });
    await expect(listStreams(client)).resolves.toBeDefined();
    await expect(client.send(new DescribeStreamSummaryCommand({ StreamName: stream }))).resolves.toBeDefined();
    await expect(putBatch(client, stream, 1)).rejects.toMatchObject({ name: 'ProvisionedThroughputExceededException' });
    expect(proxy.stats().faulted.throttle).toBe(1);
  });

  it('applies only to the next `times` matching requests', async () => {
    proxy.setFault({ mode: 'error500', times: 2 });
    await expect(listStreams(client)).rejects.toMatchObject({ name: 'InternalFailure' });
    await expect(listStreams(client)).rejects.toMatchObject({ name: 'InternalFailure' });
    await expect(listStreams(client)).resolves.toBeDefined();
    expect(proxy.stats()).toMatchObject({ total: 3, faulted: { error500: 2 } });
  });
});

describe('partial', () => {
  it('fails every n-th PutRecords entry in place and forwards exactly the others', async () => {
    const stream = await kinesis.createStream(2);
    proxy.setFault({ mode: 'partial', failEvery: 3 });
    const put = await putBatch(client, stream, 10);
    expect(put.FailedRecordCount).toBe(3);
    const failedAt = put.Records?.flatMap((r, i) => (r.ErrorCode === undefined ? [] : [i]));
    expect(failedAt).toEqual([2, 5, 8]);
    expect(put.Records?.[2]).toMatchObject({ ErrorCode: 'ProvisionedThroughputExceededException' });
    expect(put.Records?.filter((r) => r.SequenceNumber !== undefined && r.ShardId !== undefined)).toHaveLength(7);
    expect(await storedPayloads(stream)).toEqual(['r0', 'r1', 'r3', 'r4', 'r6', 'r7', 'r9'].sort());
    expect(proxy.stats()).toMatchObject({ failedRecords: 3, faulted: { partial: 1 } });
  });

  it('can fail every entry with InternalFailure, forwarding nothing', async () => {
    const stream = await kinesis.createStream();
    proxy.setFault({ mode: 'partial', failEvery: 1, errorCode: 'InternalFailure' });
    const put = await putBatch(client, stream, 4);
    expect(put.FailedRecordCount).toBe(4);
    expect(put.Records?.map((r) => r.ErrorCode)).toEqual(Array(4).fill('InternalFailure'));
    expect(await storedPayloads(stream)).toEqual([]);
  });

  it('lets every other operation through', async () => {
    const stream = await kinesis.createStream();
    proxy.setFault({ mode: 'partial', failEvery: 1 });
    await client.send(new PutRecordCommand({ StreamName: stream, Data: encoder.encode('single'), PartitionKey: 'k' }));
    await listStreams(client);
    expect(proxy.stats().faulted.partial).toBe(0);
    expect(await storedPayloads(stream)).toEqual(['single']);
  });
});

describe('switching faults', () => {
  const faults: Fault[] = [
    { mode: 'refuse' },
    { mode: 'hang' },
    { mode: 'delay', ms: 50 },
    { mode: 'error500' },
    { mode: 'throttle' },
    { mode: 'partial', failEvery: 1 },
  ];

  it.each(faults)('restores pass-through after $mode', async (fault) => {
    const stream = await kinesis.createStream();
    proxy.setFault(fault);
    proxy.setFault({ mode: 'none' });
    await expect(putBatch(client, stream, 3)).resolves.toMatchObject({ FailedRecordCount: 0 });
    expect(await storedPayloads(stream)).toEqual(['r0', 'r1', 'r2']);
  });

  it('rejects invalid faults', () => {
    expect(() => proxy.setFault({ mode: 'partial', failEvery: 0 })).toThrow(RangeError);
    expect(() => proxy.setFault({ mode: 'error500', times: -1 })).toThrow(RangeError);
  });
});
