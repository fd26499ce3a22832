import { describe, expect, it } from 'vitest';
import { createRedisSpool, inspectRedisSpool, redisSpoolDescriptor, type RedisSpool, type RedisSpoolOptions } from '../../adapters/redis/index.js';
import type { SpoolEvent } from '../../src/contracts/descriptor.js';
import { SpoolCorruptError, hasCode } from '../../src/errors/index.js';
import { waitFor } from '../helpers/emulators.js';
import { catchLogs, SHARED_REDIS_URL, spoolKeyNames, testCipher, uniquePrefix, useSharedRedis } from '../helpers/redis-fixtures.js';
import { startRedisServer, type RedisServer } from '../helpers/redis-server.js';
import { makeEnvelopes, plain } from '../helpers/spool-fixtures.js';

const SHARED = SHARED_REDIS_URL;
const { admin, cleanups } = useSharedRedis();

async function open(options: Partial<RedisSpoolOptions> & { keyPrefix: string }): Promise<RedisSpool> {
  const spool = await createRedisSpool({ url: SHARED, durability: 'write', ...options });
  cleanups.push(() => spool.close());
  return spool;
}

function prefix(label: string): string {
  const p = uniquePrefix(label);
  cleanups.push(() => admin.del(...spoolKeyNames(p)));
  return p;
}

async function server(appendfsync?: 'always' | 'everysec'): Promise<RedisServer> {
  const s = await startRedisServer(appendfsync === undefined ? {} : { appendfsync });
  cleanups.push(() => s.cleanup());
  return s;
}

describe('Redis spool: durability is stated', () => {
  it('warns through the logger and an event when the server keeps nothing on disk (the shared Redis)', async () => {
    const { logger, lines } = catchLogs();
    const events: SpoolEvent[] = [];
    const spool = await open({ keyPrefix: prefix('warn'), durability: 'aof', logger, onEvent: (e) => events.push(e) });
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({ type: 'durability-warning', spool: spool.id });
    expect(events[0]!.type === 'durability-warning' && events[0]!.message).toMatch(/keeps nothing on disk/);
    expect(events[0]!.type === 'durability-warning' && events[0]!.message).toMatch(/durability 'aof' cannot be met/);
    expect(lines.some((l) => l.level === 40 && /Redis spool durability: the Redis server keeps nothing on disk/.test(String(l.msg)))).toBe(true);
    expect(spool.durability).toMatchObject({ level: 'aof', confirm: 'none' });
  });

  it('says nothing with AOF and appendfsync always; warns that everysec may lose the last second', async () => {
    const always = await server('always');
    const everysec = await server('everysec');
    const events: SpoolEvent[] = [];
    const a = await open({ url: always.url, keyPrefix: 'p', durability: 'aof', onEvent: (e) => events.push(e) });
    expect(events).toEqual([]);
    expect(a.durability?.guarantee).toMatch(/appendfsync always/);
    await a.append(makeEnvelopes(0, 3));
    const b = await open({ url: everysec.url, keyPrefix: 'p', durability: 'aof', onEvent: (e) => events.push(e) });
    expect(events).toHaveLength(1);
    expect(b.durability?.warning).toMatch(/appendfsync everysec.*last second/);
  });

  it("with durability 'replicas' and no replica, an append fails as an ambiguous TransientError and its record is kept", async () => {
    const s = await server('always');
    const events: SpoolEvent[] = [];
    const spool = await open({ url: s.url, keyPrefix: 'p', durability: 'replicas', waitTimeoutMs: 100, onEvent: (e) => events.push(e) });
    expect(events[0]?.type === 'durability-warning' && events[0].message).toMatch(/1 replica\(s\) but the server has 0/);
    const error = await spool.append(makeEnvelopes(0, 2)).catch((e: unknown) => e);
    expect(hasCode(error, 'spillway:transient')).toBe(true);
    expect(error).toMatchObject({ ambiguous: true });
    expect((error as Error).message).toMatch(/only 0 of 1 replicas/);
    expect((await spool.stats()).records).toBe(2);
  });
});

describe('Redis spool: several reconcilers on one spool', () => {
  it('another reconciler takes over what a dead one leased, only once it has been idle for claimIdleMs', async () => {
    const keyPrefix = prefix('claim');
    const a = await open({ keyPrefix, consumer: 'reconciler-a' });
    await a.append(makeEnvelopes(0, 10));
    const taken = await a.lease(6);
    let clock = 0;
    const b = await open({ keyPrefix, consumer: 'reconciler-b', claimIdleMs: 1_500, claimEveryMs: 0, now: () => clock });
    await a.close(); // dies: its 6 records stay pending on reconciler-a
    const early = await b.lease(10);
    expect(early.envelopes.map((e) => e.id)).toEqual(makeEnvelopes(6, 4).map((e) => e.id));
    await b.ack(early);
    const claimed = await waitFor(async () => {
      clock += 1;
      const lease = await b.lease(10);
      return lease.envelopes.length > 0 ? lease : undefined;
    }, { timeoutMs: 10_000, message: 'the dead reconciler\'s records to be claimed' });
    expect(claimed.envelopes.map((e) => e.id)).toEqual(taken.envelopes.map((e) => e.id));
    await b.ack(claimed);
    expect(await b.stats()).toMatchObject({ records: 0, bytes: 0 });
  });

  it('two live reconcilers share the records without handing one out twice', async () => {
    const keyPrefix = prefix('share');
    const a = await open({ keyPrefix, consumer: 'a' });
    const b = await open({ keyPrefix, consumer: 'b' });
    await a.append(makeEnvelopes(0, 50));
    const seen: string[] = [];
    for (let round = 0; round < 20; round += 1) {
      for (const spool of [a, b]) {
        const lease = await spool.lease(4);
        seen.push(...lease.envelopes.map((e) => e.id));
        await spool.ack(lease);
      }
    }
    expect([...seen].sort()).toEqual(makeEnvelopes(0, 50).map((e) => e.id));
  });

  it('refuses a second open spool with the same consumer name in one process', async () => {
    const keyPrefix = prefix('dup');
    await open({ keyPrefix, consumer: 'same' });
    await expect(createRedisSpool({ url: SHARED, keyPrefix, consumer: 'same' })).rejects.toThrow(/spool.consumer: .*already open/);
  });
});

describe('Redis spool: encryption at rest and inspection', () => {
  it('stores sealed bytes only, reads them back, and says so when the key is missing', async () => {
    const keyPrefix = prefix('cipher');
    const cipher = testCipher();
    const spool = await open({ keyPrefix, cipher });
    const batch = makeEnvelopes(0, 4, 'secret-payload');
    await spool.append(batch);
    const raw = await admin.xrangeBuffer(`{${keyPrefix}}:spool`, '-', '+');
    expect(raw).toHaveLength(4);
    for (const [, fields] of raw) {
      expect(Buffer.concat(fields).includes('secret-payload')).toBe(false);
      expect(Buffer.concat(fields).includes('pk-')).toBe(false);
    }
    const lease = await spool.lease(10);
    expect(lease.envelopes.map(plain)).toEqual(batch.map(plain));
    await spool.release(lease);
    await spool.close();
    const blind = await open({ keyPrefix });
    const error = await blind.lease(10).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SpoolCorruptError);
    expect((error as Error).message).toMatch(/encrypted with key 'test-key'.*configure/);
  });

  it('reports an entry that does not decode once, keeps it, and goes on with the others', async () => {
    const keyPrefix = prefix('corrupt');
    const spool = await open({ keyPrefix, consumer: 'c' });
    await spool.append(makeEnvelopes(0, 2));
    await admin.xadd(`{${keyPrefix}}:spool`, '*', 'e', 'not an envelope', 't', '1');
    await spool.append(makeEnvelopes(2, 2));
    const first = await spool.lease(10).catch((e: unknown) => e);
    expect(first).toBeInstanceOf(SpoolCorruptError);
    expect((first as Error).message).toMatch(/entry \d+-\d+ does not decode as a spillway envelope/);
    const rest = await spool.lease(10);
    expect(rest.envelopes.map((e) => e.id)).toEqual(makeEnvelopes(0, 4).map((e) => e.id));
    await spool.ack(rest);
    expect((await spool.lease(10)).envelopes).toEqual([]);
    expect((await spool.stats()).records).toBe(1);
  });

  it('inspect reports records, bytes, event times and pending per consumer', async () => {
    const keyPrefix = prefix('inspect');
    const spool = await open({ keyPrefix, consumer: 'r1' });
    await spool.append(makeEnvelopes(3, 5));
    await spool.lease(2);
    const report = await inspectRedisSpool(SHARED, { keyPrefix });
    const stats = await spool.stats();
    expect(report).toMatchObject({ id: spool.id, records: 5, bytes: stats.bytes, oldestEventTime: 1_700_000_000_003, newestEventTime: 1_700_000_000_007, unread: 3 });
    expect(report.consumers).toEqual([expect.objectContaining({ name: 'r1', pending: 2 })]);
    const none = await inspectRedisSpool(SHARED, { keyPrefix: uniquePrefix('never-written') });
    expect(none).toMatchObject({ records: 0, bytes: 0, consumers: [] });
    expect(none.oldestEventTime).toBeUndefined();
  });
});

describe('Redis spool descriptor', () => {
  it('opens from a parsed configuration with the context\'s logger, events and cipher', async () => {
    const keyPrefix = prefix('descriptor');
    const { logger, lines } = catchLogs();
    const events: SpoolEvent[] = [];
    const config = redisSpoolDescriptor.schema.parse({ kind: 'redis', url: SHARED, keyPrefix, durability: 'write' });
    const spool = await redisSpoolDescriptor.open(config, { field: 'spool.0', logger, cipher: testCipher(), emit: (e) => events.push(e) });
    cleanups.push(() => spool.close());
    expect(spool.id).toMatch(new RegExp(`^redis:127\\.0\\.0\\.1:6379/\\{${keyPrefix}\\}:spool$`));
    expect(events.map((e) => e.type)).toEqual(['durability-warning']);
    expect(lines.some((l) => l.spool === spool.id && l.level === 40)).toBe(true);
    await spool.append(makeEnvelopes(0, 2, 'sealed-text'));
    const [[, fields]] = (await admin.xrangeBuffer(`{${keyPrefix}}:spool`, '-', '+', 'COUNT', 1)) as [[Buffer, Buffer[]]];
    expect(Buffer.concat(fields).includes('sealed-text')).toBe(false);
    await expect(redisSpoolDescriptor.open({ ...config, consumer: 'c', waitTimeoutMs: 5_000 }, { field: 'spool.0', logger })).rejects.toThrow(/^spool\.0\.waitTimeoutMs/);
  });
});
