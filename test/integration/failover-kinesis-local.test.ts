/**
 * The same outage against kinesis-local, the engine LocalStack runs for
 * Kinesis, so behaviour does not hinge on one emulator's quirks.
 */
import { describe, expect, it } from 'vitest';
import type { BatchItemResult } from '../../src/bus/bus.js';
import { idCounts, useTwoRegions } from '../helpers/two-regions.js';

describe('failover end to end (kinesis-local)', () => {
  const regions = useTwoRegions('kinesis-local');

  it('replays secondary and spool into the primary exactly once, with snapshots coalesced', async () => {
    // No automatic drain: coalescing is per drain window, so this test drains once, after every record is in place.
    const { bus, stream } = await regions.bus({ reconciler: { enabled: false, maxRecordsPerSecond: 1e5, maxBytesPerSecond: 1e9, uncertainSettleMs: 500 } });
    const results: BatchItemResult[] = [];
    const send = async (tag: string) => {
      const batch = Array.from({ length: 400 }, (_, i) =>
        i % 10 === 0
          ? { partitionKey: `acct-${(i / 10) % 4}`, data: { tag, i }, kind: 'snapshot' as const, coalesceKey: `acct-${(i / 10) % 4}` }
          : { partitionKey: `acct-${i % 4}`, data: { tag, i } },
      );
      results.push(...(await bus.sendBatch(batch)));
    };
    regions.east.proxy.setFault({ mode: 'refuse' });
    await send('primary-down');
    regions.west.proxy.setFault({ mode: 'error500' });
    await send('both-down');
    regions.east.proxy.setFault({ mode: 'none' });
    regions.west.proxy.setFault({ mode: 'none' });
    expect(results.every((r) => r.ok)).toBe(true);
    expect(results.some((r) => r.ok && r.landedOn.tier === 'secondary')).toBe(true);
    expect(results.some((r) => r.ok && r.landedOn.tier === 'spool')).toBe(true);

    await regions.drain(bus);
    const counts = idCounts(await regions.read(regions.east, stream));
    expect([...counts.values()].every((n) => n === 1)).toBe(true);
    const deltas = results.filter((r, i) => r.ok && i % 400 % 10 !== 0).map((r) => (r.ok ? r.id : ''));
    expect(deltas).toHaveLength(720);
    expect(deltas.filter((id) => !counts.has(id))).toEqual([]);
    // The drain coalesces snapshots within a window: at most 4 survive (one per account), and the latest per account always does.
    const snapshots = results.filter((_, i) => i % 400 % 10 === 0).map((r) => (r.ok ? r.id : ''));
    const kept = snapshots.filter((id) => counts.has(id));
    expect(kept.length).toBe(4);
    expect(kept).toEqual(snapshots.slice(-4));
    expect(counts.size).toBe(724);
  }, 180_000);
});
