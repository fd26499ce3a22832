/**
 * The Kinesis target's own client (createPutRecordsClient): its middleware
 * stack is resolved once, not per call; each call's abort signal still
 * reaches the HTTP request (a deadline and a caller's abort both end a call
 * to an endpoint that never answers); every other command on the shared
 * client works as on any client; and no finished call's body is kept. Real
 * SDK client against kinesalite and a `node:http` server that accepts and
 * never answers.
 */
import { DescribeStreamSummaryCommand, PutRecordsCommand } from '@aws-sdk/client-kinesis';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import { once } from 'node:events';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createKinesisTarget } from '../../adapters/kinesis/kinesis-target.js';
import { createPutRecordsClient, sendPutRecords } from '../../adapters/kinesis/put-records-call.js';
import { putRecordsBody } from '../../adapters/kinesis/put-records-wire.js';
import { FAKE_CREDENTIALS, readAllRecords } from '../../src/drill/kinesis-admin.js';
import { createStamper } from '../../src/envelope/index.js';
import { TransientError } from '../../src/errors/index.js';
import { useKinesisEmulator, waitFor } from '../helpers/emulators.js';

const kinesis = useKinesisEmulator('kinesalite');

/** A server that reads each request and never answers; lists the requests and whether each one's connection closed. */
async function silentServer(): Promise<{ server: Server; endpoint: string; requests: Array<{ closed: boolean }> }> {
  const requests: Array<{ closed: boolean }> = [];
  const server = createServer((req: IncomingMessage) => {
    const seen = { closed: false };
    requests.push(seen);
    req.resume();
    req.socket.on('close', () => {
      seen.closed = true;
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return { server, endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, requests };
}

/** `promise`, or a rejection once `ms` have passed (a call nothing aborts would otherwise hang the test). */
function within<T>(ms: number, promise: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`still waiting after ${ms} ms: the call was not aborted`)), ms);
  });
  return Promise.race([promise, late]).finally(() => clearTimeout(timer));
}

let cleanup: Array<() => unknown> = [];
afterEach(async () => {
  for (const step of cleanup.reverse()) await step();
  cleanup = [];
  vi.restoreAllMocks();
});

describe("the Kinesis target's own client", () => {
  it('resolves its middleware stack once for all its PutRecords calls, and they land', async () => {
    const stream = await kinesis.createStream();
    const resolve = vi.spyOn(PutRecordsCommand.prototype, 'resolveMiddleware');
    const target = createKinesisTarget({ region: 'us-east-1', stream, endpoint: kinesis.endpoint, credentials: FAKE_CREDENTIALS });
    cleanup.push(() => target.close());
    const stamp = createStamper();
    for (let call = 0; call < 5; call++) {
      const out = await target.put([0, 1, 2].map((i) => stamp({ partitionKey: `k${i}`, data: { call, i } })), new AbortController().signal);
      expect(out.failed).toEqual([]);
      expect((out.receipts ?? []).every((r) => r?.sequenceNumber !== undefined)).toBe(true);
    }
    expect(resolve).toHaveBeenCalledTimes(1);
    expect(await readAllRecords(target.client, stream)).toHaveLength(15);
  });

  it('ends a call to an endpoint that never answers at its deadline, closing the request', async () => {
    const silent = await silentServer();
    cleanup.push(() => silent.server.close());
    const target = createKinesisTarget({ region: 'us-east-1', stream: 's', endpoint: silent.endpoint, credentials: FAKE_CREDENTIALS, requestTimeoutMs: 300 });
    cleanup.push(() => target.close());
    const started = performance.now();
    const error = await within(3_000, target.put([createStamper()({ partitionKey: 'k', data: 'x' })], new AbortController().signal)).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TransientError);
    expect((error as Error).message).not.toMatch(/still waiting/);
    expect(performance.now() - started).toBeLessThan(2_000);
    expect(silent.requests).toHaveLength(1);
    await waitFor(() => silent.requests[0]?.closed === true, { timeoutMs: 2_000, message: 'the abandoned request to be closed' });
  });

  it("ends a call when the caller's signal aborts (a bus closing), closing the request", async () => {
    const silent = await silentServer();
    cleanup.push(() => silent.server.close());
    const target = createKinesisTarget({ region: 'us-east-1', stream: 's', endpoint: silent.endpoint, credentials: FAKE_CREDENTIALS, requestTimeoutMs: 60_000 });
    cleanup.push(() => target.close());
    const caller = new AbortController();
    const put = target.put([createStamper()({ partitionKey: 'k', data: 'x' })], caller.signal).catch((e: unknown) => e);
    await waitFor(() => silent.requests.length === 1, { timeoutMs: 2_000, message: 'the request to arrive' });
    caller.abort(new Error('bus closing'));
    expect(await within(3_000, put)).toBeInstanceOf(Error);
    await waitFor(() => silent.requests[0]?.closed === true, { timeoutMs: 2_000, message: 'the aborted request to be closed' });
  });

  it('leaves every other command as on any client: a plain PutRecords, with and without send options, and a describe', async () => {
    const stream = await kinesis.createStream();
    const client = createPutRecordsClient({ region: 'us-east-1', endpoint: kinesis.endpoint, credentials: FAKE_CREDENTIALS, maxAttempts: 1, requestHandler: new NodeHttpHandler() });
    cleanup.push(() => client.destroy());
    const plain = new PutRecordsCommand({ StreamName: stream, Records: [{ Data: Buffer.from('a'), PartitionKey: 'k' }] });
    // The SDK's own deserializer read this answer: its entries are there.
    expect((await client.send(plain)).Records).toHaveLength(1);
    const withOptions = new PutRecordsCommand({ StreamName: stream, Records: [{ Data: Buffer.from('b'), PartitionKey: 'k' }] });
    expect((await client.send(withOptions, { abortSignal: new AbortController().signal })).Records).toHaveLength(1);
    expect((await client.send(new DescribeStreamSummaryCommand({ StreamName: stream }))).StreamDescriptionSummary?.StreamStatus).toBe('ACTIVE');
    const answer = await sendPutRecords(client, stream, putRecordsBody(stream, [{ data: Buffer.from('c'), partitionKey: 'k' }]));
    expect(answer.Records).toHaveLength(1);
    const stored = await readAllRecords(client, stream);
    expect(stored.map((r) => Buffer.from(r.data).toString())).toEqual(['a', 'b', 'c']);
  });

  it('does not keep a finished call\'s body (the cached stack holds on to the first command it served)', async () => {
    const stream = await kinesis.createStream();
    const client = createPutRecordsClient({ region: 'us-east-1', endpoint: kinesis.endpoint, credentials: FAKE_CREDENTIALS, maxAttempts: 1, requestHandler: new NodeHttpHandler() });
    cleanup.push(() => client.destroy());
    const send = async (): Promise<WeakRef<Buffer>> => {
      const body = putRecordsBody(stream, [{ data: Buffer.alloc(100_000, 1), partitionKey: 'k' }]);
      expect((await sendPutRecords(client, stream, body, new AbortController().signal)).Records).toHaveLength(1);
      return new WeakRef(body);
    };
    const first = await send();
    await send();
    setFlagsFromString('--expose-gc');
    const gc = runInNewContext('gc') as () => void;
    await waitFor(
      () => {
        gc();
        return first.deref() === undefined;
      },
      { timeoutMs: 5_000, message: 'the first call\'s body to be collected' },
    );
  });
});
