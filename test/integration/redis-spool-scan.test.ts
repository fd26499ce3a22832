/**
 * `scan` of the Redis spool (the reconciler's survey): every record not yet
 * acknowledged, leased or not, in append order, across XRANGE pages, without
 * leasing anything; undecodable entries skipped; the abort signal honoured
 * between pages. Runs on the shared Redis under unique key prefixes.
 */
import { describe, expect, it } from 'vitest';
import { createRedisSpool, type RedisSpool, type RedisSpoolOptions } from '../../adapters/redis/index.js';
import type { Envelope } from '../../src/envelope/types.js';
import { SHARED_REDIS_URL, spoolKeyNames, testCipher, uniquePrefix, useSharedRedis } from '../helpers/redis-fixtures.js';
import { makeEnvelopes } from '../helpers/spool-fixtures.js';

const SHARED = SHARED_REDIS_URL;
const { admin, cleanups } = useSharedRedis();

async function open(label: string, options: Partial<RedisSpoolOptions> = {}): Promise<RedisSpool> {
  const keyPrefix = uniquePrefix(label);
  cleanups.push(() => admin.del(...spoolKeyNames(keyPrefix)));
  const spool = await createRedisSpool({ url: SHARED, durability: 'write', keyPrefix, ...options });
  cleanups.push(() => spool.close());
  return spool;
}

async function scanIds(spool: RedisSpool, signal?: AbortSignal): Promise<string[]> {
  const ids: string[] = [];
  await spool.scan!((e: Envelope) => ids.push(e.id), signal);
  return ids;
}

describe('Redis spool: scan', () => {
  it('visits exactly the records not yet acknowledged, leased ones included, in append order, across pages', async () => {
    const spool = await open('scan');
    const appended = [...makeEnvelopes(0, 700), ...makeEnvelopes(700, 503)].map((e) => e.id);
    await spool.append(makeEnvelopes(0, 700));
    await spool.append(makeEnvelopes(700, 503));
    expect(await scanIds(spool)).toEqual(appended);

    const acked = await spool.lease(300);
    await spool.ack(acked);
    const leased = await spool.lease(200); // leased, never acked: still in the backlog
    const unacked = appended.slice(300);
    const seen = await scanIds(spool);
    expect(seen).toHaveLength(1_203 - 300);
    expect(seen).toEqual(unacked);
    expect(seen.slice(0, 200)).toEqual(leased.envelopes.map((e) => e.id));
    expect((await spool.stats()).records).toBe(seen.length);

    // The scan leased nothing: the next lease goes on after the leased 200.
    expect((await spool.lease(5)).envelopes.map((e) => e.id)).toEqual(appended.slice(500, 505));
    await spool.ack(leased);
    expect(await scanIds(spool)).toEqual(appended.slice(500));
  });

  it('visits nothing on an empty or never-written spool', async () => {
    const spool = await open('scan-empty');
    expect(await scanIds(spool)).toEqual([]);
    await spool.append(makeEnvelopes(0, 3));
    await spool.ack(await spool.lease(3));
    expect(await scanIds(spool)).toEqual([]);
  });

  it('decodes sealed entries with the cipher and skips entries that do not decode, without failing', async () => {
    const spool = await open('scan-sealed', { cipher: testCipher() });
    await spool.append(makeEnvelopes(0, 3));
    await admin.xadd(spool.key, '*', 'e', 'not an envelope', 't', '0');
    await admin.xadd(spool.key, '*', 'nothing', 'here');
    await spool.append(makeEnvelopes(3, 2));
    const visited: Envelope[] = [];
    await spool.scan!((e) => visited.push(e));
    expect(visited.map((e) => e.id)).toEqual(makeEnvelopes(0, 5).map((e) => e.id));
    expect(Buffer.from(visited[4]!.data).toString('utf8')).toMatch(/^t:4:/);
    expect((await spool.stats()).records).toBe(7);
  });

  it('stops between pages once the signal is aborted, and does not start on an aborted one', async () => {
    const spool = await open('scan-abort');
    await spool.append(makeEnvelopes(0, 1_200));
    const controller = new AbortController();
    let visited = 0;
    const outcome = await spool
      .scan!(() => {
        visited += 1;
        controller.abort(new Error('stop the survey'));
      }, controller.signal)
      .catch((e: unknown) => e);
    expect((outcome as Error).message).toBe('stop the survey');
    expect(visited).toBe(500); // the first page, then nothing
    expect(await spool.scan!(() => undefined, controller.signal).catch((e: unknown) => e)).toBe(controller.signal.reason);
  });
});
