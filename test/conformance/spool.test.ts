import { randomBytes } from 'node:crypto';
import { pino } from 'pino';
import { createDiskSpool, type DiskSpool, type DiskSpoolOptions } from '../../adapters/disk/index.js';
import { createMemorySpool } from '../../adapters/memory/index.js';
import type { Spool } from '../../src/contracts/spool.js';
import { createSpoolCipher } from '../../src/crypto/spool-cipher.js';
import { makeTempDir } from '../helpers/spool-fixtures.js';
import { runSpoolConformance, type SpoolFactory } from './spool-conformance.js';

/** A disk spool in a fresh temp dir, with `extra` options. */
function diskFactory(extra: Partial<DiskSpoolOptions> = {}): SpoolFactory {
  return async ({ maxBytes }) => {
    const { dir, cleanup } = await makeTempDir('conformance');
    const open = (): Promise<DiskSpool> =>
      createDiskSpool({ dir, maxSegmentBytes: 1_024, logger: pino({ level: 'silent' }), ...extra, ...(maxBytes === undefined ? {} : { maxBytes }) });
    let spool: Spool = await open();
    return {
      get spool() {
        return spool;
      },
      async reopen() {
        await spool.close();
        spool = await open();
        return spool;
      },
      async cleanup() {
        await spool.close();
        await cleanup();
      },
    };
  };
}

runSpoolConformance('disk', diskFactory(), { durable: true });
runSpoolConformance('disk, encrypted at rest', diskFactory({ cipher: createSpoolCipher(randomBytes(32)) }), { durable: true });

runSpoolConformance('memory', async ({ maxBytes }) => {
  const spool = createMemorySpool(maxBytes === undefined ? {} : { maxBytes });
  return { spool, cleanup: () => spool.close() };
});
