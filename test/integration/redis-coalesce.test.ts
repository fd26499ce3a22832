/**
 * Coalescing across the whole backlog when the backlog is in a Redis spool:
 * the reconciler surveys the spool (`scan`) before it drains, so superseded
 * snapshots many drain windows apart are skipped, not only those that share
 * a window. A bus of memory targets (assembleBus) over a real Redis spool on
 * the shared Redis, under a unique key prefix.
 */
import { describe, expect, it } from 'vitest';
import { createRedisSpool } from '../../adapters/redis/index.js';
import { TransientError } from '../../src/errors/index.js';
import { memoryBus, primaryClosed } from '../helpers/bus-parts.js';
import { SHARED_REDIS_URL, spoolKeyNames, uniquePrefix, useSharedRedis } from '../helpers/redis-fixtures.js';

const SHARED = SHARED_REDIS_URL;
const { admin, cleanups } = useSharedRedis();

describe('backlog coalescing with a Redis spool', () => {
  it('drains 8 snapshots of one key, windows apart in the spool, as the newest one, and every delta in order', async () => {
    const keyPrefix = uniquePrefix('coalesce');
    cleanups.push(() => admin.del(...spoolKeyNames(keyPrefix)));
    const spool = await createRedisSpool({ url: SHARED, keyPrefix, durability: 'write' });
    const { bus, primary, secondary } = memoryBus({
      spool,
      breaker: { volumeThreshold: 2, resetTimeoutMs: 20 },
      failback: { mode: 'immediate' },
      reconciler: { enabled: false, maxRecordsPerSecond: 1e6, maxBytesPerSecond: 1e12, uncertainSettleMs: 0, windowRecords: 4 },
    });
    cleanups.push(() => bus.close());
    primary.down(new TransientError('primary down'));
    secondary.down(new TransientError('secondary down'));

    const snapshots: string[] = [];
    const deltas: string[] = [];
    for (let h = 0; h < 8; h++) {
      const delta = await bus.send({ partitionKey: 'acct', data: `delta ${h}` });
      const snapshot = await bus.send({ partitionKey: 'acct', data: `balance@${h}`, kind: 'snapshot', coalesceKey: 'acct' });
      expect([delta.landedOn.target, snapshot.landedOn.target]).toEqual([spool.id, spool.id]);
      deltas.push(delta.id);
      snapshots.push(snapshot.id);
    }
    expect((await spool.stats()).records).toBe(16);

    primary.up();
    secondary.up();
    await primaryClosed(bus);
    const summary = await bus.reconcile();

    const written = primary.stored.map((e) => e.id);
    expect(written.filter((id) => snapshots.includes(id))).toEqual([snapshots[7]]);
    expect(written.filter((id) => deltas.includes(id))).toEqual(deltas);
    expect(written).toHaveLength(9);
    expect(summary).toMatchObject({ written: 9, coalesced: 7 });
    expect((await spool.stats()).records).toBe(0);
  });
});
