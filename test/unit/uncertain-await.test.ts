/**
 * A primary write of unknown fate (a timeout after sending) is recorded, and
 * that record is awaited, before its records are offered to the next tier:
 * otherwise a crash in between loses the fact that the primary may hold them,
 * and the replay duplicates them.
 */
import { describe, expect, it } from 'vitest';
import { createMemoryCheckpointStore } from '../../adapters/memory/index.js';
import type { CheckpointStore } from '../../src/contracts/index.js';
import { TransientError } from '../../src/errors/index.js';
import { memoryBus } from '../helpers/bus-parts.js';
import { waitFor } from '../helpers/emulators.js';

describe('writes of unknown fate', () => {
  it('are durably recorded before their records move to the next tier', async () => {
    const inner = createMemoryCheckpointStore();
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    let writes = 0;
    const slowStore: CheckpointStore = {
      get: (key) => inner.get(key),
      async set(key, value) {
        writes++;
        await gate; // the durable write has not returned yet
        await inner.set(key, value);
      },
      close: () => inner.close(),
    };
    const { bus, primary, secondary } = memoryBus({ failback: { mode: 'immediate' }, uncertain: { store: slowStore, findWritten: async () => [] } });
    primary.script = () => new TransientError('timed out after sending', { ambiguous: true });
    const sent = bus.send({ partitionKey: 'k', data: 'maybe landed' });
    await waitFor(() => writes > 0, { message: 'the uncertain write to start being recorded' });
    // While the record of the uncertain write is not durable, the record must not have moved on.
    await new Promise((resolve) => setImmediate(resolve));
    expect(secondary.stored).toHaveLength(0);
    release();
    expect((await sent).landedOn.tier).toBe('secondary');
    expect(secondary.stored).toHaveLength(1);
    expect(await inner.get('reconciler/uncertain-writes')).toContain((await sent).id);
    await bus.close();
  });
});
