import { createDiskSpool, type DiskSpool } from '../../adapters/disk/index.js';
import { createMemorySpool } from '../../adapters/memory/index.js';
import type { Spool } from '../../src/contracts/spool.js';
import { makeTempDir } from '../helpers/spool-fixtures.js';
import { describeSpoolConformance } from './spool-conformance.js';

describeSpoolConformance('disk', async ({ maxBytes }) => {
  const { dir, cleanup } = await makeTempDir('conformance');
  const open = (): Promise<DiskSpool> => createDiskSpool({ dir, maxSegmentBytes: 1_024, ...(maxBytes === undefined ? {} : { maxBytes }) });
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
}, { durable: true });

describeSpoolConformance('memory', async ({ maxBytes }) => {
  const spool = createMemorySpool(maxBytes === undefined ? {} : { maxBytes });
  return { spool, cleanup: () => spool.close() };
});
