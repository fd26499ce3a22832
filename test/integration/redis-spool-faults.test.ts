/**
 * A Redis that is down, slow or full is a failed tier: appends fail fast and
 * classified, nothing that resolved is lost, and the spool recovers by itself.
 * Each test runs its own redis-server (stopped, paused or given a tiny maxmemory).
 */
import { afterEach, describe, expect, it } from 'vitest';
import { createRedisSpool, type RedisSpool, type RedisSpoolOptions } from '../../adapters/redis/index.js';
import type { Envelope } from '../../src/envelope/types.js';
import { SpoolFullError, TransientError, hasCode } from '../../src/errors/index.js';
import { waitFor } from '../helpers/emulators.js';
import { startRedisServer, type RedisServer } from '../helpers/redis-server.js';
import { makeEnvelopes } from '../helpers/spool-fixtures.js';

const cleanups: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  for (const fn of cleanups.splice(0).reverse()) await fn();
});

const FAST = { commandTimeoutMs: 400, connectTimeoutMs: 400, maxReconnectDelayMs: 100, durability: 'aof' } as const;

async function setUp(options: Partial<RedisSpoolOptions> = {}, appendfsync: 'always' | undefined = 'always'): Promise<{ server: RedisServer; spool: RedisSpool }> {
  const server = await startRedisServer(appendfsync === undefined ? {} : { appendfsync });
  cleanups.push(() => server.cleanup());
  const spool = await createRedisSpool({ url: server.url, keyPrefix: 'faults', ...FAST, ...options });
  cleanups.push(() => spool.close());
  return { server, spool };
}

/** Append, recording the outcome per record: resolved, failed (with the error) or ambiguous. */
class Ledger {
  readonly resolved: string[] = [];
  readonly ambiguous: string[] = [];
  readonly failed: unknown[] = [];
  async append(spool: RedisSpool, batch: Envelope[]): Promise<unknown> {
    try {
      await spool.append(batch);
      this.resolved.push(...batch.map((e) => e.id));
      return undefined;
    } catch (error) {
      if ((error as TransientError).ambiguous === true) this.ambiguous.push(...batch.map((e) => e.id));
      this.failed.push(error);
      return error;
    }
  }
}

async function drainIds(spool: RedisSpool): Promise<string[]> {
  const out: string[] = [];
  for (let lease = await spool.lease(50); lease.envelopes.length > 0; lease = await spool.lease(50)) {
    out.push(...lease.envelopes.map((e) => e.id));
    await spool.ack(lease);
  }
  return out;
}

/** `promise`, or a rejection after `ms` if it has not settled: a hang fails the test instead of stalling it. */
function within<T>(ms: number, promise: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const hung = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`still pending after ${ms} ms: the spool hung instead of failing fast`)), ms);
  });
  return Promise.race([promise, hung]).finally(() => clearTimeout(timer));
}

/** Every resolved record came back, and nothing came back that was neither resolved nor ambiguous. */
function expectAccounted(out: string[], ledger: Ledger): void {
  expect(new Set(out).size).toBe(out.length);
  for (const id of ledger.resolved) expect(out).toContain(id);
  for (const id of out) expect([...ledger.resolved, ...ledger.ambiguous]).toContain(id);
}

describe('Redis spool: a Redis that is down', () => {
  it('fails appends fast with TransientError while down, recovers by itself, and loses nothing that resolved', async () => {
    const { server, spool } = await setUp();
    const ledger = new Ledger();
    await ledger.append(spool, makeEnvelopes(0, 5));
    await server.stop();
    const started = performance.now();
    const error = await within(5_000, ledger.append(spool, makeEnvelopes(5, 5)));
    expect(performance.now() - started).toBeLessThan(3_000);
    expect(hasCode(error, TransientError.code)).toBe(true);
    expect((error as Error).message).toMatch(/append of 5 records failed/);
    expect(hasCode(await spool.lease(5).catch((e: unknown) => e), TransientError.code)).toBe(true);
    await server.start();
    let n = 10;
    await waitFor(async () => (await ledger.append(spool, makeEnvelopes((n += 1), 1))) === undefined, { timeoutMs: 10_000, message: 'appends to work again' });
    expect(ledger.resolved.length).toBeGreaterThanOrEqual(6);
    expectAccounted(await drainIds(spool), ledger);
  });

  it('opens while the server is down and works once it is up', async () => {
    const server = await startRedisServer({ appendfsync: 'always' });
    cleanups.push(() => server.cleanup());
    await server.stop();
    const spool = await createRedisSpool({ url: server.url, keyPrefix: 'late', ...FAST });
    cleanups.push(() => spool.close());
    expect(hasCode(await spool.append(makeEnvelopes(0, 1)).catch((e: unknown) => e), TransientError.code)).toBe(true);
    await server.start();
    await waitFor(() => spool.append(makeEnvelopes(1, 1)).then(() => true), { timeoutMs: 10_000, message: 'the spool to reconnect' });
    expect(await drainIds(spool)).toEqual(makeEnvelopes(1, 1).map((e) => e.id));
  });
});

describe('Redis spool: a Redis that cannot be reached', () => {
  const FIX = /check spool\.url \(host and port\) and that Redis is running/;

  it('says which server, the connection error (ECONNREFUSED) and what to check, for every operation', async () => {
    const { server, spool } = await setUp();
    await spool.append(makeEnvelopes(0, 2));
    await server.stop();
    const first = await within(5_000, spool.stats().catch((e: unknown) => e));
    expect(first).toMatchObject({ retryable: true, ambiguous: false });
    expect((first as Error).message).toMatch(new RegExp(`the Redis server at 127\\.0\\.0\\.1:${server.port} cannot be reached \\(last connection error: (the connection closed|connect ECONNREFUSED)`));
    await waitFor(async () => /ECONNREFUSED/.test(String(await spool.stats().catch((e: unknown) => e))), { timeoutMs: 5_000, message: 'a reconnection attempt to fail' });
    const operations: Array<[string, () => Promise<unknown>]> = [
      ['stats', () => spool.stats()],
      ['append of 1 records', () => spool.append(makeEnvelopes(2, 1))],
      ['lease', () => spool.lease(5)],
      ['scan', () => spool.scan!(() => undefined)],
    ];
    for (const [operation, run] of operations) {
      const error = await within(5_000, run().catch((e: unknown) => e));
      expect(error).toBeInstanceOf(TransientError);
      expect(error).toMatchObject({ retryable: true, ambiguous: false });
      const message = (error as Error).message;
      expect(message).toContain(`${operation} failed: the Redis server at 127.0.0.1:${server.port} cannot be reached`);
      expect(message).toContain(`last connection error: connect ECONNREFUSED 127.0.0.1:${server.port}`);
      expect(message).toMatch(FIX);
      expect(message).not.toMatch(/enableOfflineQueue|Stream isn't writeable/);
    }
  });

  it('names a host that does not resolve (ENOTFOUND) and the field of the url', async () => {
    const spool = await createRedisSpool({ url: 'redis://spillway-no-such-host.invalid:6390', keyPrefix: 'nohost', ...FAST }, 'spool[0]');
    cleanups.push(() => spool.close());
    const error = await within(5_000, spool.stats().catch((e: unknown) => e));
    expect(error).toBeInstanceOf(TransientError);
    expect(error).toMatchObject({ retryable: true, ambiguous: false });
    const message = (error as Error).message;
    expect(message).toContain('the Redis server at spillway-no-such-host.invalid:6390 cannot be reached (last connection error: getaddrinfo ENOTFOUND spillway-no-such-host.invalid)');
    expect(message).toMatch(/check spool\[0\]\.url/);
  });
});

describe('Redis spool: a Redis that is slow', () => {
  it('times out a paused server within commandTimeoutMs as an ambiguous TransientError; nothing resolved is lost', async () => {
    const { server, spool } = await setUp();
    const ledger = new Ledger();
    await ledger.append(spool, makeEnvelopes(0, 3));
    const admin = server.admin();
    await admin.call('CLIENT', 'PAUSE', 1500, 'WRITE');
    const started = performance.now();
    const error = await within(5_000, ledger.append(spool, makeEnvelopes(3, 3)));
    expect(performance.now() - started).toBeLessThan(1_400);
    expect(error).toBeInstanceOf(TransientError);
    expect(error).toMatchObject({ ambiguous: true });
    expect((error as Error).message).toMatch(/timed out.*may have been applied/i);
    let n = 10;
    await waitFor(() => ledger.append(spool, makeEnvelopes((n += 2), 2)).then((e) => e === undefined), { timeoutMs: 10_000, message: 'the pause to end' });
    expect(ledger.ambiguous.length).toBeGreaterThanOrEqual(3);
    expectAccounted(await drainIds(spool), ledger);
  });

  it('a lease that times out hands nothing out: released records still go out first, in order', async () => {
    const { server, spool } = await setUp();
    await spool.append(makeEnvelopes(0, 6));
    await spool.release(await spool.lease(3));
    await server.admin().call('CLIENT', 'PAUSE', 1000, 'WRITE'); // XREADGROUP writes (the pending list): paused too
    expect(await within(5_000, spool.lease(10).catch((e: unknown) => e))).toBeInstanceOf(TransientError);
    const lease = await waitFor(() => spool.lease(10).catch(() => undefined), { timeoutMs: 10_000, message: 'the pause to end' });
    expect(lease.envelopes.map((e) => e.id)).toEqual(makeEnvelopes(0, 6).map((e) => e.id));
  });

  it('times out during DEBUG SLEEP and answers again afterwards', async () => {
    const { server, spool } = await setUp();
    const admin = server.admin();
    await admin.ping();
    const sleeping = admin.call('DEBUG', 'SLEEP', '2').catch((e: unknown) => e);
    const probe = server.admin();
    probe.options.commandTimeout = 100;
    await waitFor(() => probe.ping().then(() => false, () => true), { timeoutMs: 5_000, message: 'the server to be asleep' });
    const error = await spool.append(makeEnvelopes(0, 1)).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TransientError);
    await sleeping;
    await spool.append(makeEnvelopes(1, 1));
    const out = await drainIds(spool);
    expect(out).toContain(makeEnvelopes(1, 1)[0]!.id);
  });
});

describe('Redis spool: a Redis that is full', () => {
  it('refuses appends with SpoolFullError at maxmemory, stores none of a refused batch, and still drains', async () => {
    const { server, spool } = await setUp({}, undefined);
    const admin = server.admin();
    const info = String(await admin.info('memory'));
    const used = Number(/used_memory:(\d+)/.exec(info)?.[1]);
    await admin.config('SET', 'maxmemory-policy', 'noeviction');
    await admin.config('SET', 'maxmemory', String(used + 400_000));
    const ledger = new Ledger();
    let error: unknown;
    for (let i = 0; i < 500 && error === undefined; i += 1) error = await ledger.append(spool, makeEnvelopes(i * 20, 20, 'oom', 1_000));
    expect(error).toBeInstanceOf(SpoolFullError);
    expect((error as Error).message).toMatch(/out of memory \(OOM command not allowed/);
    expect(ledger.ambiguous).toEqual([]);
    expect((await spool.stats()).records).toBe(ledger.resolved.length);
    expect(await drainIds(spool)).toEqual(ledger.resolved);
    expect(await spool.stats()).toMatchObject({ records: 0, bytes: 0 });
    await spool.append(makeEnvelopes(90_000, 5, 'after'));
    expect((await spool.stats()).records).toBe(5);
  });
});
