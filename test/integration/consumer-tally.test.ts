/** The drill's consumer tally on a real kinesalite: counts what the handler received, lost and duplicated. */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createBus } from '../../src/bus/create-bus.js';
import type { BusConfigInput } from '../../src/config/schema.js';
import { startDeliveryTally } from '../../src/consumer/delivery-tally.js';
import { FAKE_CREDENTIALS } from '../../src/drill/kinesis-admin.js';
import { silentLogger } from '../helpers/bus-parts.js';
import { useKinesisEmulator } from '../helpers/emulators.js';

describe('consumer delivery tally (kinesalite)', () => {
  const kinesis = useKinesisEmulator('kinesalite');

  it('reports every sent id received once, and an id that never arrived as lost', async () => {
    const stream = await kinesis.createStream(2);
    const dir = await mkdtemp(join(tmpdir(), 'spillway-tally-'));
    const config: BusConfigInput = {
      primary: { kind: 'kinesis', region: 'us-east-1', stream, endpoint: kinesis.endpoint, credentials: FAKE_CREDENTIALS },
      spool: { kind: 'disk', dir: join(dir, 'spool') },
      reconciler: { enabled: false },
    };
    const bus = await createBus(config, { logger: silentLogger });
    try {
      const tally = await startDeliveryTally(config, { stateDir: join(dir, 'tally'), logger: silentLogger });
      const ids = (await bus.sendBatch(Array.from({ length: 200 }, (_, i) => ({ partitionKey: `k${i % 7}`, data: { i } })))).map((r) => (r.ok ? r.id : ''));
      const required = new Set([...ids, 'never-sent']);
      await tally.settle(new Set(ids), 15_000);
      const counts = await tally.finish(required);
      expect(counts).toMatchObject({ received: 200, unique: 200, lost: 1, duplicated: 0, lostIds: ['never-sent'] });
    } finally {
      await bus.close();
      await rm(dir, { recursive: true, force: true });
    }
  }, 30_000);
});
