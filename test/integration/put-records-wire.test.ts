/**
 * PutRecords with spillway's own request and response bodies, against
 * kinesalite through the real SDK client: the bytes, keys and hash keys that
 * land are exactly those given, the answer's per-entry results come back in
 * order, the caller's middleware still runs, and errors are the SDK's own.
 */
import { KinesisClient, ResourceNotFoundException } from '@aws-sdk/client-kinesis';
import { FetchHttpHandler } from '@smithy/fetch-http-handler';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import { describe, expect, it } from 'vitest';
import { createKinesisTarget } from '../../adapters/kinesis/kinesis-target.js';
import { sendPutRecords } from '../../adapters/kinesis/put-records-call.js';
import { putRecordsBody } from '../../adapters/kinesis/put-records-wire.js';
import { createStamper, decodeEnvelope } from '../../src/envelope/index.js';
import { FAKE_CREDENTIALS, readAllRecords } from '../../src/drill/kinesis-admin.js';
import { useKinesisEmulator } from '../helpers/emulators.js';

describe('PutRecords wire bodies', () => {
  const kinesis = useKinesisEmulator('kinesalite');
  const client = (): KinesisClient => new KinesisClient({ region: 'us-east-1', endpoint: kinesis.endpoint, credentials: FAKE_CREDENTIALS, maxAttempts: 1, requestHandler: new NodeHttpHandler() });

  it('writes each entry byte for byte, with keys that need escaping and explicit hash keys, and answers per entry in order', async () => {
    const stream = await kinesis.createStream(2);
    const c = client();
    const seen: string[] = [];
    // The caller's own middleware still runs on the call.
    c.middlewareStack.add((next, context) => (args) => (seen.push(String(context.commandName)), next(args)), { step: 'initialize', name: 'probe' });
    try {
      const entries = [
        { data: Buffer.from([0, 1, 2, 255, 254]), partitionKey: 'plain' },
        { data: Buffer.from('quote " backslash \\ newline \n', 'utf8'), partitionKey: 'key "with" \\ and \u00e9 and \u2603' },
        { data: new Uint8Array(Buffer.from('hash key', 'utf8')), partitionKey: 'k', explicitHashKey: '340282366920938463463374607431768211455' },
        { data: Buffer.alloc(10_000, 7), partitionKey: 'big' },
      ];
      const answer = await sendPutRecords(c, stream, putRecordsBody(stream, entries));
      expect(seen).toEqual(['PutRecordsCommand']);
      expect(answer.FailedRecordCount).toBe(0);
      expect(answer.Records).toHaveLength(entries.length);
      for (const r of answer.Records ?? []) expect(r.SequenceNumber).toMatch(/^\d+$/);
      // The explicit hash key is the top of the range: the last of the two shards.
      expect(answer.Records?.[2]?.ShardId).toBe('shardId-000000000001');

      const stored = await readAllRecords(c, stream);
      const bySeq = new Map(stored.map((r) => [r.sequenceNumber, r]));
      entries.forEach((entry, i) => {
        const record = bySeq.get(answer.Records?.[i]?.SequenceNumber as string);
        expect(record?.partitionKey).toBe(entry.partitionKey);
        expect(Buffer.from(record?.data as Uint8Array).equals(Buffer.from(entry.data))).toBe(true);
      });
    } finally {
      c.destroy();
    }
  });

  it("reads the answer whatever the client's HTTP handler yields (fetch's plain Uint8Array chunks included)", async () => {
    const stream = await kinesis.createStream(1);
    const c = new KinesisClient({ region: 'us-east-1', endpoint: kinesis.endpoint, credentials: FAKE_CREDENTIALS, maxAttempts: 1, requestHandler: new FetchHttpHandler() });
    try {
      const entries = Array.from({ length: 50 }, (_, i) => ({ data: Buffer.from(`fetch-${i}`), partitionKey: `k${i % 5}` }));
      const answer = await sendPutRecords(c, stream, putRecordsBody(stream, entries));
      expect(answer.FailedRecordCount).toBe(0);
      expect(answer.Records?.every((r) => /^\d+$/.test(r.SequenceNumber ?? ''))).toBe(true);
      expect(await readAllRecords(c, stream)).toHaveLength(50);
    } finally {
      c.destroy();
    }
  });

  it("falls back to the SDK's own output when its send is replaced (a test double that never reaches the middleware)", async () => {
    const double = { send: async () => ({ FailedRecordCount: 0, Records: [{ SequenceNumber: '1', ShardId: 'shardId-000000000000' }] }) };
    const answer = await sendPutRecords(double, 's', putRecordsBody('s', [{ data: Buffer.from('x'), partitionKey: 'k' }]));
    expect(answer.Records).toEqual([{ SequenceNumber: '1', ShardId: 'shardId-000000000000' }]);
  });

  it('leaves an error answer to the SDK: a missing stream is its typed exception', async () => {
    const c = client();
    try {
      const error = await sendPutRecords(c, 'no-such-stream', putRecordsBody('no-such-stream', [{ data: Buffer.from('x'), partitionKey: 'k' }])).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(ResourceNotFoundException);
    } finally {
      c.destroy();
    }
  });

  it('a Kinesis target writes each envelope as encoded, records far bigger than its scratch buffer and small ones after them alike', async () => {
    const stream = await kinesis.createStream(1);
    const c = client();
    const target = createKinesisTarget({ region: 'us-east-1', stream, client: c });
    try {
      const stamp = createStamper({ producer: 'p-1' });
      // Sizes around the 64 KiB scratch and the 256 bytes where base64 changes hands; payload bytes that differ per record.
      const sizes = [100_000, 10, 4, 1, 255, 256, 257, 70_000, 5, 300_000, 2, 65_536, 65_400, 3];
      const batch = sizes.map((n, i) => stamp({ partitionKey: `k${i}`, data: Buffer.alloc(n, (i * 37) & 0xff) }));
      const out = await target.put(batch, new AbortController().signal);
      expect(out.failed).toEqual([]);
      const stored = await readAllRecords(c, stream);
      expect(stored).toHaveLength(batch.length);
      stored.forEach((record, i) => {
        const envelope = decodeEnvelope(record.data, record.partitionKey);
        expect(envelope.id).toBe(batch[i]?.id);
        expect(Buffer.from(envelope.data).equals(Buffer.from(batch[i]?.data as Uint8Array))).toBe(true);
      });
    } finally {
      await target.close();
      c.destroy();
    }
  });
});
