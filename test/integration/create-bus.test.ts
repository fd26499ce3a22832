/** createBus against a real emulator: start-up checks and a region that is down at start. */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createBus } from '../../src/bus/create-bus.js';
import { findFreePort } from '../../src/drill/emulators.js';
import { FAKE_CREDENTIALS, readAllRecords } from '../../src/drill/kinesis-admin.js';
import { startFaultProxy } from '../../src/drill/fault-proxy.js';
import { decodeEnvelope } from '../../src/envelope/index.js';
import { ConfigError, isSpillwayError } from '../../src/errors/index.js';
import { silentLogger } from '../helpers/bus-parts.js';
import { uniqueName, useKinesisEmulator, waitFor } from '../helpers/emulators.js';

describe('createBus start-up', () => {
  const kinesis = useKinesisEmulator('kinesalite');
  const dirs: string[] = [];
  const spoolDir = async () => {
    const dir = await mkdtemp(join(tmpdir(), 'spillway-create-'));
    dirs.push(dir);
    return dir;
  };
  afterEach(async () => {
    for (const dir of dirs.splice(0)) await rm(dir, { recursive: true, force: true });
  });

  it('refuses a configuration naming a stream that does not exist, and says which field', async () => {
    const stream = await kinesis.createStream();
    const missing = uniqueName('missing');
    const error = await createBus(
      {
        primary: { kind: 'kinesis', region: 'us-east-1', stream, endpoint: kinesis.endpoint, credentials: FAKE_CREDENTIALS },
        secondaries: [{ kind: 'kinesis', region: 'us-east-1', stream: missing, endpoint: kinesis.endpoint, credentials: FAKE_CREDENTIALS }],
        spool: { kind: 'disk', dir: await spoolDir() },
      },
      { logger: silentLogger },
    ).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).field).toBe('secondaries.0.stream');
    expect((error as Error).message).toContain(`stream "${missing}" does not exist in us-east-1`);
  });

  it('starts with the primary region unreachable and spools, then drains once it appears', async () => {
    const deadPort = await findFreePort();
    const dir = await spoolDir();
    const stream = await kinesis.createStream();
    const bus = await createBus(
      {
        primary: { kind: 'kinesis', region: 'us-east-1', stream, endpoint: `http://127.0.0.1:${deadPort}`, credentials: FAKE_CREDENTIALS },
        spool: { kind: 'disk', dir },
        reconciler: { enabled: false },
      },
      { logger: silentLogger },
    );
    const results = await bus.sendBatch(Array.from({ length: 25 }, (_, i) => ({ partitionKey: 'k', data: i })));
    expect(results.every((r) => r.ok && r.landedOn.tier === 'spool')).toBe(true);
    expect((await bus.stats()).spool.records).toBe(25);

    const region = await startFaultProxy({ target: kinesis.endpoint, port: deadPort });
    try {
      const summary = await waitFor(async () => {
        const s = await bus.reconcile();
        return s.written > 0 ? s : undefined;
      }, { timeoutMs: 15_000, intervalMs: 100, message: 'a drain once the region answers' });
      expect(summary.written).toBe(25);
      expect((await bus.stats()).spool.records).toBe(0);
      const stored = await readAllRecords(kinesis.client, stream);
      expect(stored.map((r) => decodeEnvelope(r.data).id)).toEqual(results.map((r) => (r.ok ? r.id : '')));
    } finally {
      await bus.close();
      await region.close();
    }
  });

  it('refuses a second bus on the same spool directory with a typed error naming spool.dir', async () => {
    const stream = await kinesis.createStream();
    const dir = await spoolDir();
    const config = { primary: { kind: 'kinesis' as const, region: 'us-east-1', stream, endpoint: kinesis.endpoint, credentials: FAKE_CREDENTIALS }, spool: { kind: 'disk' as const, dir } };
    const first = await createBus(config, { logger: silentLogger });
    try {
      const error = await createBus(config, { logger: silentLogger }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(ConfigError);
      expect((error as ConfigError).field).toBe('spool.dir');
      expect((await first.send({ partitionKey: 'k', data: 'still works' })).landedOn.tier).toBe('primary');
    } finally {
      await first.close();
    }
  });

  it('says what to fix when the spool directory is not a directory', async () => {
    const stream = await kinesis.createStream();
    const file = join(await spoolDir(), 'not-a-dir');
    await writeFile(file, 'x');
    const error = await createBus(
      { primary: { kind: 'kinesis', region: 'us-east-1', stream, endpoint: kinesis.endpoint, credentials: FAKE_CREDENTIALS }, spool: { kind: 'disk', dir: file } },
      { logger: silentLogger },
    ).catch((e: unknown) => e);
    expect(isSpillwayError(error)).toBe(true);
    expect((error as Error).message).toContain(file);
  });
});
