import { describe, expect, it } from 'vitest';
import { classifyRedisError, keySlot, planDurability, redisSpoolDescriptor, redisSpoolSchema, spoolKeys, type PersistenceInfo } from '../../adapters/redis/index.js';
import { crc16, compareStreamIds } from '../../adapters/redis/redis-keys.js';
import { createRedisSpool } from '../../adapters/redis/index.js';
import { ConfigError, SpoolFullError, TargetRejectedError, TransientError } from '../../src/errors/index.js';

const info = (over: Partial<PersistenceInfo> = {}): PersistenceInfo => ({ version: [7, 0, 15], aofEnabled: false, save: '', connectedReplicas: 0, ...over });

describe('Redis spool keys', () => {
  it('hashes with CRC16 the way Redis Cluster does', () => {
    expect(crc16(Buffer.from('123456789'))).toBe(0x31c3);
    expect(keySlot('foo')).toBe(12182);
    expect(keySlot('{user1000}.following')).toBe(keySlot('{user1000}.followers'));
  });

  it('puts every key of one spool in one slot, and different prefixes apart', () => {
    const keys = spoolKeys('orders-bus');
    expect(keySlot(keys.stream)).toBe(keySlot(keys.bytes));
    expect(keySlot(keys.stream)).toBe(keySlot('orders-bus'));
    expect(spoolKeys('a').stream).not.toBe(spoolKeys('b').stream);
  });

  it('orders stream ids numerically, not as text', () => {
    expect(compareStreamIds('9-0', '10-0')).toBeLessThan(0);
    expect(compareStreamIds('10-2', '10-10')).toBeLessThan(0);
    expect(compareStreamIds('10-10', '10-10')).toBe(0);
  });
});

describe('Redis spool durability plan', () => {
  it("'aof' uses WAITAOF on Redis 7.2+ with AOF on", () => {
    const plan = planDurability('aof', info({ version: [7, 2, 4], aofEnabled: true, appendfsync: 'everysec' }));
    expect(plan).toMatchObject({ confirm: 'waitaof' });
    expect(plan.warning).toBeUndefined();
  });

  it("'aof' on 7.0 relies on appendfsync always, and warns for everysec or an unknown policy (ElastiCache)", () => {
    const always = planDurability('aof', info({ aofEnabled: true, appendfsync: 'always' }));
    expect(always).toMatchObject({ confirm: 'none' });
    expect(always.warning).toBeUndefined();
    expect(planDurability('aof', info({ aofEnabled: true, appendfsync: 'everysec' })).warning).toMatch(/last second/);
    const elasticache: PersistenceInfo = { version: [7, 0, 7], aofEnabled: true, connectedReplicas: 0 };
    expect(planDurability('aof', elasticache).warning).toMatch(/appendfsync unknown \(CONFIG GET is not allowed\)/);
  });

  it('warns when the server keeps nothing on disk, whatever the level', () => {
    for (const level of ['write', 'aof', 'replicas'] as const) {
      expect(planDurability(level, info({ connectedReplicas: 2 })).warning).toMatch(/keeps nothing on disk/);
    }
    expect(planDurability('write', info({ save: '3600 1' })).warning).toMatch(/only periodic RDB snapshots/);
    expect(planDurability('write', info({ aofEnabled: true, appendfsync: 'everysec' })).warning).toBeUndefined();
  });

  it("'replicas' waits for minReplicas and warns when fewer are connected", () => {
    const two = planDurability('replicas', info({ aofEnabled: true, connectedReplicas: 2 }), 2);
    expect(two).toMatchObject({ confirm: 'wait' });
    expect(two.warning).toBeUndefined();
    expect(planDurability('replicas', info({ aofEnabled: true, connectedReplicas: 1 }), 2).warning).toMatch(/asks for 2 replica\(s\) but the server has 1/);
  });
});

describe('Redis error classification', () => {
  const ctx = { spool: 'redis:h:1/{p}:spool', operation: 'append of 1 records', sent: true, maxBytes: 100 };
  it('server OOM and the spool maxBytes are SpoolFullError', () => {
    expect(classifyRedisError(new Error("OOM command not allowed when used memory > 'maxmemory'."), ctx)).toBeInstanceOf(SpoolFullError);
    const full = classifyRedisError(new Error('SPILLWAY_FULL 90 of 100 bytes held'), ctx);
    expect(full).toBeInstanceOf(SpoolFullError);
    expect(full.message).toMatch(/maxBytes \(100 bytes\)/);
  });

  it('down and slow are TransientError, ambiguous only when the command may have run', () => {
    const refused = classifyRedisError(new Error("Stream isn't writeable and enableOfflineQueue options is false"), ctx);
    expect(refused).toBeInstanceOf(TransientError);
    expect(refused).toMatchObject({ ambiguous: false });
    expect(classifyRedisError(new Error('Command timed out'), ctx)).toMatchObject({ ambiguous: true });
    expect(classifyRedisError(new Error('Command timed out'), { ...ctx, sent: false })).toMatchObject({ ambiguous: false });
    expect(classifyRedisError(new Error('LOADING Redis is loading the dataset in memory'), ctx)).toMatchObject({ code: TransientError.code, ambiguous: false });
  });

  it('no connection: says which server cannot be reached, why when known, and what to check; semantics unchanged', () => {
    const offline = new Error("Stream isn't writeable and enableOfflineQueue options is false");
    const e = classifyRedisError(offline, { ...ctx, field: 'spool[0].url', connectionError: 'connect ECONNREFUSED 10.0.0.9:6380' });
    expect(e).toBeInstanceOf(TransientError);
    expect(e).toMatchObject({ retryable: true, ambiguous: false, cause: offline });
    expect(e.message).toBe(
      'redis spool redis:h:1/{p}:spool: append of 1 records failed: the Redis server at h:1 cannot be reached (last connection error: connect ECONNREFUSED 10.0.0.9:6380); ' +
        'check spool[0].url (host and port) and that Redis is running and reachable from here. The spool reconnects by itself once it answers',
    );
    expect(classifyRedisError(offline, ctx).message).toMatch(/at h:1 cannot be reached \(not connected\); check the url/);
    const refused = classifyRedisError(new Error('connect ECONNREFUSED 127.0.0.1:6390'), { ...ctx, spool: 'redis:127.0.0.1:6390/{p}:spool (redis://127.0.0.1:6390)', operation: 'inspect' });
    expect(refused.message).toMatch(/inspect failed: the Redis server at 127\.0\.0\.1:6390 cannot be reached \(last connection error: connect ECONNREFUSED 127\.0\.0\.1:6390\)/);
    expect(refused).toMatchObject({ ambiguous: false });
    expect(classifyRedisError(new Error('Command timed out'), { ...ctx, connectionError: 'x' }).message).not.toMatch(/cannot be reached/);
  });

  it('a refused password or a foreign key is TargetRejectedError with the fix', () => {
    const e = classifyRedisError(new Error('WRONGTYPE Operation against a key holding the wrong kind of value'), ctx);
    expect(e).toBeInstanceOf(TargetRejectedError);
    expect(e.message).toMatch(/key prefix/);
  });
});

describe('Redis spool configuration', () => {
  it('accepts a full configuration and describes it without the password', () => {
    const config = redisSpoolSchema.parse({ kind: 'redis', url: 'rediss://u:secret@cache.example:6380', keyPrefix: 'orders', durability: 'replicas', tls: { rejectUnauthorized: true } });
    expect(redisSpoolDescriptor.remote).toBe(true);
    expect(redisSpoolDescriptor.describe(config)).toBe('redis cache.example:6380/{orders}:spool');
  });

  it('rejects a bad url, prefix or durability with the field and the fix', () => {
    const bad = (v: Record<string, unknown>) => redisSpoolSchema.safeParse({ kind: 'redis', url: 'redis://h:1', ...v }).error?.issues[0];
    expect(bad({ url: 'http://u:pw@h:1' })?.message).toMatch(/"http:\/\/u:\*\*\*@h:1" is not a Redis url/);
    expect(bad({ keyPrefix: 'a{b}' })).toMatchObject({ path: ['keyPrefix'], message: expect.stringMatching(/no braces/) });
    expect(bad({ durability: 'fsync' })?.message).toMatch(/'write', 'aof' or 'replicas'/);
    expect(bad({ colour: 1 })).toBeDefined();
  });

  it('createRedisSpool names the field of a bad option before connecting', async () => {
    await expect(createRedisSpool({ url: 'redis://127.0.0.1:1', keyPrefix: 'x', commandTimeoutMs: 100, waitTimeoutMs: 200 }, 'spool.0')).rejects.toThrow(
      /spool\.0\.waitTimeoutMs \(200\) must be below commandTimeoutMs/,
    );
    await expect(createRedisSpool({ url: 'memcache://h' })).rejects.toBeInstanceOf(ConfigError);
  });
});
