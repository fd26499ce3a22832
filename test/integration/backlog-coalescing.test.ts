/**
 * Coalescing across the whole backlog with a real secondary stream: the
 * survey reads the secondary's shards without consuming them, so the drain
 * sends only the newest snapshot even when the older ones are windows apart.
 */
import { describe, expect, it } from 'vitest';
import { useTwoRegions } from '../helpers/two-regions.js';

describe('backlog coalescing (kinesalite)', () => {
  const regions = useTwoRegions('kinesalite');

  it('drains 30 snapshots of one key, many windows apart, as the newest one, and every delta', async () => {
    const { bus, stream } = await regions.bus({
      reconciler: { enabled: false, maxRecordsPerSecond: 1e5, maxBytesPerSecond: 1e9, uncertainSettleMs: 0, windowRecords: 20 },
    });
    regions.east.proxy.setFault({ mode: 'refuse' });
    const snapshots: string[] = [];
    const deltas: string[] = [];
    for (let i = 0; i < 30; i++) {
      const [snap, ...rest] = await bus.sendBatch([
        { partitionKey: 'meter-7', kind: 'snapshot', data: { reading: i } },
        ...Array.from({ length: 4 }, (_, j) => ({ partitionKey: `meter-${j}`, data: { i, j } })),
      ]);
      snapshots.push(snap?.ok ? snap.id : '');
      deltas.push(...rest.map((r) => (r.ok ? r.id : '')));
    }
    regions.east.proxy.setFault({ mode: 'none' });
    await regions.drain(bus);
    const ids = (await regions.read(regions.east, stream)).map((e) => e.id);
    expect(ids.filter((id) => snapshots.includes(id))).toEqual([snapshots[29]]);
    expect([...ids.filter((id) => deltas.includes(id))].sort()).toEqual([...deltas].sort());
    expect(ids).toHaveLength(121);
  }, 60_000);
});
