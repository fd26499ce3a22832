/**
 * Redis Cluster: three private cluster-enabled servers joined by
 * `redis-cli --cluster create`. The spool's keys share one slot (its hash
 * tag), so its scripts run there; WAIT/INFO go to the node owning that slot.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRedisSpool, keySlot, spoolKeys, type RedisSpool } from '../../adapters/redis/index.js';
import { startRedisCluster, type RedisClusterFixture } from '../helpers/redis-server.js';
import { makeEnvelopes, plain } from '../helpers/spool-fixtures.js';

let cluster: RedisClusterFixture;
beforeAll(async () => {
  cluster = await startRedisCluster(3);
});
afterAll(() => cluster?.cleanup());

describe('Redis spool on Redis Cluster', () => {
  it('keeps each spool in one slot, on the node that owns it', async () => {
    const admin = cluster.nodes[0]!.admin();
    for (const prefix of ['orders', 'payments', 'x']) {
      const keys = spoolKeys(prefix);
      const slot = Number(await admin.call('CLUSTER', 'KEYSLOT', keys.stream));
      expect(slot).toBe(keySlot(keys.stream));
      expect(Number(await admin.call('CLUSTER', 'KEYSLOT', keys.bytes))).toBe(slot);
    }
  });

  it('appends, leases, acks and counts through the cluster client, for buses in different slots', async () => {
    const spools: RedisSpool[] = [];
    try {
      for (const keyPrefix of ['orders', 'payments', 'audit']) {
        const spool = await createRedisSpool({ url: cluster.url, cluster: true, keyPrefix, durability: 'aof' });
        spools.push(spool);
        expect(spool.durability).toMatchObject({ confirm: 'none' });
        expect(spool.durability?.warning).toBeUndefined();
        const batch = makeEnvelopes(0, 7, keyPrefix);
        await spool.append(batch);
        expect(await spool.stats()).toMatchObject({ records: 7 });
        const lease = await spool.lease(10);
        expect(lease.envelopes.map(plain)).toEqual(batch.map(plain));
        await spool.ack(lease);
        expect(await spool.stats()).toMatchObject({ records: 0, bytes: 0 });
      }
      const slots = new Set(['orders', 'payments', 'audit'].map((p) => keySlot(spoolKeys(p).stream)));
      expect(slots.size).toBe(3);
    } finally {
      for (const spool of spools) await spool.close();
    }
  });

  it("reads persistence from the node that owns the spool's slot, not from any node", async () => {
    const keys = spoolKeys('owned');
    const slot = keySlot(keys.stream);
    const ranges = (await cluster.nodes[0]!.admin().call('CLUSTER', 'SLOTS')) as Array<[number, number, [string, number]]>;
    const ownerPort = ranges.find(([from, to]) => slot >= from && slot <= to)?.[2][1];
    const others = cluster.nodes.filter((n) => n.port !== ownerPort);
    expect(others).toHaveLength(2);
    for (const node of others) await node.admin().config('SET', 'appendfsync', 'everysec');
    try {
      const spool = await createRedisSpool({ url: others[0]!.url, cluster: true, keyPrefix: 'owned', durability: 'aof' });
      try {
        expect(spool.durability?.warning).toBeUndefined();
        expect(spool.durability?.guarantee).toMatch(/appendfsync always/);
      } finally {
        await spool.close();
      }
    } finally {
      for (const node of others) await node.admin().config('SET', 'appendfsync', 'always');
    }
  });
});
