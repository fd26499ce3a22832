/**
 * A Kinesis target whose endpoint accepts connections and never answers: each
 * call fails at its request timeout even when garbage collections run while it
 * waits (with `AbortSignal.any` over `AbortSignal.timeout`, Node 20 could
 * collect the timeout and the call then waited for ever). A real `node:net`
 * server that reads and never writes; the real SDK client.
 */
import { createServer, type Server, type Socket } from 'node:net';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createKinesisTarget } from '../../adapters/kinesis/kinesis-target.js';
import { FAKE_CREDENTIALS } from '../../src/drill/kinesis-admin.js';
import { createStamper } from '../../src/envelope/index.js';
import { TransientError } from '../../src/errors/index.js';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

let server: Server;
let endpoint: string;
const sockets = new Set<Socket>();

beforeAll(async () => {
  server = createServer((socket) => {
    sockets.add(socket);
    socket.on('data', () => undefined); // read the request, never answer
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  endpoint = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
});

afterAll(async () => {
  for (const s of sockets) s.destroy();
  await new Promise((resolve) => server.close(resolve));
});

describe('call deadlines against an endpoint that never answers', () => {
  it('every put fails at its request timeout, with garbage collections running while the calls wait', async () => {
    const target = createKinesisTarget({ region: 'us-east-1', stream: 'never', endpoint, credentials: FAKE_CREDENTIALS, requestTimeoutMs: 300 });
    const stamp = createStamper();
    const started = performance.now();
    const collecting = setInterval(gc, 20);
    try {
      const calls = Array.from({ length: 8 }, (_, i) => target.put([stamp({ partitionKey: `k${i}`, data: { i } })], new AbortController().signal).then(() => 'answered', (e: unknown) => e));
      const outcomes = await Promise.all(calls);
      const ms = performance.now() - started;
      for (const o of outcomes) expect(o).toBeInstanceOf(TransientError);
      expect(ms).toBeLessThan(5_000);
    } finally {
      clearInterval(collecting);
      await target.close();
    }
  }, 15_000);
});
