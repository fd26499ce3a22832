/**
 * Snapshots are coalesced across the whole backlog, not per window: an hourly
 * snapshot missed 18 times, spread over the secondary and the spool and over
 * many windows, reaches the primary once, and every delta still arrives in order.
 */
import { describe, expect, it } from 'vitest';
import { TransientError } from '../../src/errors/index.js';
import { memoryBus } from '../helpers/bus-parts.js';

async function backlogOf18Hours(coalesce: 'backlog' | 'window') {
  const { bus, primary, secondary } = memoryBus({
    failback: { mode: 'immediate' },
    breaker: { volumeThreshold: 1000, consecutiveFailures: 1000 },
    reconciler: { enabled: false, maxRecordsPerSecond: 1e6, maxBytesPerSecond: 1e12, uncertainSettleMs: 0, windowRecords: 5, readRecords: 3, coalesce },
  });
  primary.down(new TransientError('down'));
  const deltas: string[] = [];
  const snapshots: string[] = [];
  for (let hour = 0; hour < 18; hour++) {
    if (hour === 9) secondary.down(new TransientError('down too')); // the second half goes to the spool
    const [snapshot, ...rest] = await bus.sendBatch([
      { partitionKey: 'device-1', kind: 'snapshot', coalesceKey: 'hourly', data: { hour } },
      { partitionKey: 'device-1', data: { hour, delta: 1 } },
      { partitionKey: 'device-2', data: { hour, delta: 2 } },
    ]);
    snapshots.push(snapshot?.ok ? snapshot.id : '');
    deltas.push(...rest.map((r) => (r.ok ? r.id : '')));
  }
  primary.up();
  secondary.up();
  const summary = await bus.reconcile();
  await bus.close();
  return { summary, primary, deltas, snapshots };
}

describe('coalescing across the whole backlog', () => {
  it('sends an hourly snapshot missed 18 times once, the newest, with every delta in order', async () => {
    const { summary, primary, deltas, snapshots } = await backlogOf18Hours('backlog');
    expect(summary.error).toBeUndefined();
    expect(summary.coalesced).toBe(17);
    const written = primary.ids();
    expect(written.filter((id) => snapshots.includes(id))).toEqual([snapshots[17]]);
    expect(written.filter((id) => deltas.includes(id))).toEqual(deltas);
    expect(written).toHaveLength(deltas.length + 1);
  });

  it('per window (the control), older snapshots in earlier windows are sent too', async () => {
    const { primary, snapshots } = await backlogOf18Hours('window');
    expect(primary.ids().filter((id) => snapshots.includes(id)).length).toBeGreaterThan(5);
  });
});
