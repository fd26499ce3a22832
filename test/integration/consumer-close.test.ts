/**
 * Closing a consumer on a real kinesalite: `await consumer.close()` inside a
 * `for await` loop body resolves (within a deadline), and the record being
 * handled then is read again by the next consumer of the group; a second
 * `close()` resolves only with the first, once running handlers finished and
 * their checkpoints were written, so a restart hands over nothing twice.
 */
import { PutRecordsCommand } from '@aws-sdk/client-kinesis';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { BusConfigInput } from '../../src/config/schema.js';
import { createConsumer } from '../../src/consumer/index.js';
import { FAKE_CREDENTIALS } from '../../src/drill/kinesis-admin.js';
import { silentLogger } from '../helpers/bus-parts.js';
import { useKinesisEmulator, waitFor } from '../helpers/emulators.js';

/** Rejects when `promise` has not settled within `ms`: a hang fails the test instead of stalling it. */
function withinDeadline<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`${what} did not resolve within ${ms} ms`)), ms)));
  return Promise.race([promise, deadline]).finally(() => clearTimeout(timer));
}

describe('consumer close (kinesalite)', () => {
  const kinesis = useKinesisEmulator('kinesalite');
  const dirs: string[] = [];
  afterEach(async () => {
    for (const dir of dirs.splice(0)) await rm(dir, { recursive: true, force: true });
  });

  /** A one-stream config with its own state directory, and `n` raw records `r0`.. on it under `keyOf(i)`. */
  async function streamWith(n: number, keyOf: (i: number) => string): Promise<BusConfigInput> {
    const stream = await kinesis.createStream(1);
    const dir = await mkdtemp(join(tmpdir(), 'spillway-consumer-close-'));
    dirs.push(dir);
    const Records = Array.from({ length: n }, (_, i) => ({ PartitionKey: keyOf(i), Data: Buffer.from(`r${i}`) }));
    const put = await kinesis.client.send(new PutRecordsCommand({ StreamName: stream, Records }));
    expect(put.FailedRecordCount ?? 0).toBe(0);
    return {
      primary: { kind: 'kinesis', region: 'us-east-1', stream, endpoint: kinesis.endpoint, credentials: FAKE_CREDENTIALS },
      spool: { kind: 'disk', dir: join(dir, 'spool') },
      stateDir: join(dir, 'state'),
      reconciler: { enabled: false },
    };
  }

  it('resolves close() awaited inside a for-await body, and the record being handled is read again next time', async () => {
    const config = await streamWith(5, () => 'one-key');
    const open = () => createConsumer(config, { group: 'iter-close', idlePollMs: 20, logger: silentLogger });

    const first: string[] = [];
    const consumer = await open();
    for await (const record of consumer) {
      first.push(Buffer.from(record.data).toString());
      // r0 and r1 were acknowledged by asking for the next; r2 is in hand when the loop body closes the consumer.
      if (first.length === 3) await withinDeadline(consumer.close(), 5_000, 'close() inside the loop body');
    }
    expect(first).toEqual(['r0', 'r1', 'r2']);

    const second: string[] = [];
    const again = await open();
    const running = again.run((record) => void second.push(Buffer.from(record.data).toString()));
    await waitFor(() => second.length >= 3, { timeoutMs: 10_000, message: 'the rest of the shard' });
    await withinDeadline(again.close(), 5_000, 'close()');
    await running;
    // In: 5 records. Out: r2 twice (in hand at the close, not checkpointed), every other record once.
    expect(second).toEqual(['r2', 'r3', 'r4']);
  }, 30_000);

  it('a second close() resolves with the first: after running handlers finished and their checkpoints were written', async () => {
    const config = await streamWith(20, (i) => `k${i}`);
    const open = () => createConsumer(config, { group: 'double-close', idlePollMs: 20, concurrency: 4, logger: silentLogger });
    let started = 0;
    const finished: string[] = [];
    const consumer = await open();
    const running = consumer.run(async (record) => {
      started++;
      await new Promise((resolve) => setTimeout(resolve, 300));
      finished.push(Buffer.from(record.data).toString());
    });
    await waitFor(() => started >= 4, { timeoutMs: 10_000, message: 'four handlers running' });

    let firstResolved = false;
    const firstClose = consumer.close().then(() => (firstResolved = true));
    await withinDeadline(consumer.close(), 10_000, 'the second close()');
    expect(firstResolved).toBe(true);
    expect(finished).toHaveLength(started);
    await firstClose;
    await running;

    // The same group again: only what the first consumer did not finish, and all of it.
    const handledFirst = [...finished];
    const second: string[] = [];
    const again = await open();
    void again.run((record) => void second.push(Buffer.from(record.data).toString()));
    await waitFor(() => handledFirst.length + second.length >= 20, { timeoutMs: 10_000, message: 'all 20 records across the restart' });
    await again.close();
    const all = [...handledFirst, ...second];
    expect(all.filter((r, i) => all.indexOf(r) !== i)).toEqual([]);
    expect(new Set(all).size).toBe(20);
  }, 30_000);
});
