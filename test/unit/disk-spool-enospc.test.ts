/**
 * ENOSPC for real: the spool on a 1 MiB tmpfs. Needs root (mount); skipped
 * with a printed reason otherwise. The same behaviour is checked everywhere
 * through the io seam in disk-spool-full.test.ts.
 */
import { execFileSync } from 'node:child_process';
import { mkdtemp, rm, rmdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDiskSpool } from '../../adapters/disk/index.js';
import { SpoolFullError } from '../../src/errors/index.js';
import { makeEnvelopes } from '../helpers/spool-fixtures.js';
import { watchSpool } from '../helpers/spool-log.js';

let mountPoint: string | undefined;
let skipReason: string | undefined;

beforeAll(async () => {
  const dir = await mkdtemp(join(tmpdir(), 'spillway-enospc-'));
  if (process.getuid?.() !== 0) {
    skipReason = 'not running as root, so a 1 MiB tmpfs cannot be mounted';
  } else {
    try {
      execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=1m,mode=0700', 'tmpfs', dir], { stdio: 'pipe' });
      mountPoint = dir;
      return;
    } catch (error) {
      skipReason = `mount -t tmpfs failed (${String((error as { stderr?: Buffer }).stderr ?? error).trim()}); this needs CAP_SYS_ADMIN`;
    }
  }
  await rmdir(dir);
  console.warn(`disk-spool-enospc: skipped: ${skipReason}`);
});

afterAll(async () => {
  if (mountPoint === undefined) return;
  execFileSync('umount', [mountPoint]);
  await rm(mountPoint, { recursive: true, force: true });
});

describe('disk spool on a full filesystem (1 MiB tmpfs)', () => {
  it('rejects with SpoolFullError once the disk is full, keeps every stored record, and takes appends again once space is freed', async (ctx) => {
    if (mountPoint === undefined) {
      ctx.skip();
      return;
    }
    const dir = join(mountPoint, 'spool');
    const spool = await createDiskSpool({ dir, maxSegmentBytes: 64 * 1024, logger: watchSpool().logger });
    const stored: string[] = [];
    let error: unknown;
    for (let i = 0; i < 2_000 && error === undefined; i += 1) {
      const batch = makeEnvelopes(i * 4, 4, 'tmpfs', 1_000);
      try {
        await spool.append(batch);
        stored.push(...batch.map((e) => e.id));
      } catch (e) {
        error = e;
      }
    }
    expect(error).toBeInstanceOf(SpoolFullError);
    expect(error).toMatchObject({ reason: 'disk-full' });
    expect((error as Error).message).toMatch(/is full \((ENOSPC|EDQUOT)\)/);
    expect(stored.length).toBeGreaterThan(100);

    // Free space by draining half, then append again without reopening.
    const out: string[] = [];
    while (out.length < stored.length / 2) {
      const lease = await spool.lease(50);
      out.push(...lease.envelopes.map((e) => e.id));
      await spool.ack(lease);
    }
    const more = makeEnvelopes(1_000_000, 4, 'tmpfs', 1_000);
    await spool.append(more);
    await spool.close();

    const reopened = await createDiskSpool({ dir, maxSegmentBytes: 64 * 1024, logger: watchSpool().logger });
    for (let lease = await reopened.lease(100); lease.envelopes.length > 0; lease = await reopened.lease(100)) {
      out.push(...lease.envelopes.map((e) => e.id));
      await reopened.ack(lease);
    }
    await reopened.close();
    expect(out).toEqual([...stored, ...more.map((e) => e.id)]);
  });
});
