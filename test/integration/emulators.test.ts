import net from 'node:net';
import { ListStreamsCommand, PutRecordsCommand } from '@aws-sdk/client-kinesis';
import { describe, expect, it } from 'vitest';
import { findFreePort, startKinesisEmulator, type KinesisEngine } from '../../src/drill/emulators.js';
import { createKinesisClientFor, readAllRecords } from '../../src/drill/kinesis-admin.js';
import { useKinesisEmulator } from '../helpers/emulators.js';

const engines: KinesisEngine[] = ['kinesalite', 'kinesis-local'];

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe.each(engines)('%s emulator', (engine) => {
  const kinesis = useKinesisEmulator(engine);

  it('serves a 127.0.0.1 endpoint from a live child process', () => {
    expect(kinesis.endpoint).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(kinesis.emulator.engine).toBe(engine);
    expect(isAlive(kinesis.emulator.pid)).toBe(true);
  });

  it('stores every record of a PutRecords batch across shards and reads them all back', async () => {
    const stream = await kinesis.createStream(2);
    const entries = Array.from({ length: 40 }, (_, i) => ({
      Data: new TextEncoder().encode(`record-${i}`),
      PartitionKey: `key-${i}`,
    }));
    const put = await kinesis.client.send(new PutRecordsCommand({ StreamName: stream, Records: entries }));
    expect(put.FailedRecordCount ?? 0).toBe(0);
    expect(put.Records).toHaveLength(40);

    const records = await readAllRecords(kinesis.client, stream);
    expect(records).toHaveLength(40);
    const byKey = new Map(records.map((r) => [r.partitionKey, new TextDecoder().decode(r.data)]));
    for (let i = 0; i < 40; i += 1) expect(byKey.get(`key-${i}`)).toBe(`record-${i}`);
    expect(new Set(records.map((r) => r.shardId)).size).toBe(2);
    const written = new Set(put.Records?.map((r) => r.SequenceNumber));
    expect(new Set(records.map((r) => r.sequenceNumber))).toEqual(written);
  });

  it('reads an empty stream as no records', async () => {
    const stream = await kinesis.createStream(1);
    expect(await readAllRecords(kinesis.client, stream)).toEqual([]);
  });
});

describe('emulator lifecycle', () => {
  it.each(engines)('stop() ends the %s child process and closes its port', async (engine) => {
    const emulator = await startKinesisEmulator({ engine });
    const client = createKinesisClientFor(emulator.endpoint);
    try {
      await client.send(new ListStreamsCommand({}));
      await emulator.stop();
      expect(isAlive(emulator.pid)).toBe(false);
      // A fresh client: the first one's pooled keep-alive socket would fail with ECONNRESET instead.
      const fresh = createKinesisClientFor(emulator.endpoint);
      try {
        await expect(fresh.send(new ListStreamsCommand({}))).rejects.toMatchObject({ code: 'ECONNREFUSED' });
      } finally {
        fresh.destroy();
      }
      await emulator.stop(); // idempotent
    } finally {
      client.destroy();
      await emulator.stop();
    }
  });

  it('rejects with the child output when the port is taken', async () => {
    const port = await findFreePort();
    const blocker = net.createServer((socket) => socket.destroy());
    await new Promise<void>((resolve) => blocker.listen(port, '127.0.0.1', resolve));
    try {
      const start = startKinesisEmulator({ engine: 'kinesalite', port, readyTimeoutMs: 10_000 });
      await expect(start).rejects.toThrow(/did not start[\s\S]*EADDRINUSE/);
    } finally {
      await new Promise((resolve) => blocker.close(resolve));
    }
  });

  it('picks distinct free ports for concurrent emulators', async () => {
    const [a, b] = await Promise.all([startKinesisEmulator(), startKinesisEmulator()]);
    try {
      expect(a.endpoint).not.toBe(b.endpoint);
    } finally {
      await Promise.all([a.stop(), b.stop()]);
    }
    expect([isAlive(a.pid), isAlive(b.pid)]).toEqual([false, false]);
  });
});
