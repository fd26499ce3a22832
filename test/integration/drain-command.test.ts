/**
 * `spillway drain` through the real bin against a kinesalite process: the dry
 * run counts what would be replayed, coalesced and skipped and writes nothing;
 * the drain writes it; `--orphans` drains what a producer that is gone left
 * on a shared secondary, once, even when run twice.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { createBus } from '../../src/bus/create-bus.js';
import type { BusConfigInput } from '../../src/config/schema.js';
import { ensureStream, FAKE_CREDENTIALS } from '../../src/drill/kinesis-admin.js';
import { silentLogger } from '../helpers/bus-parts.js';
import { uniqueName } from '../helpers/emulators.js';
import { idCounts, useTwoRegions } from '../helpers/two-regions.js';

const run = promisify(execFile);
const bin = join(import.meta.dirname, '../../bin/spillway.js');
const regions = useTwoRegions('kinesalite');
const dirs: string[] = [];
afterAll(async () => {
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

async function producerConfig(stream: string): Promise<{ config: BusConfigInput; file: string }> {
  const dir = await mkdtemp(join(tmpdir(), 'spillway-drain-cli-'));
  dirs.push(dir);
  const config: BusConfigInput = {
    primary: { kind: 'kinesis', region: regions.east.name, stream, endpoint: regions.east.proxy.url, credentials: FAKE_CREDENTIALS, requestTimeoutMs: 1_000 },
    secondaries: [{ kind: 'kinesis', region: regions.west.name, stream, endpoint: regions.west.proxy.url, credentials: FAKE_CREDENTIALS, requestTimeoutMs: 1_000 }],
    spool: { kind: 'disk', dir: join(dir, 'spool') },
    reconciler: { enabled: false, maxRecordsPerSecond: 1e5, maxBytesPerSecond: 1e9, uncertainSettleMs: 0 },
  };
  // A configuration file never holds credentials: the child gets them from the environment, as the provider chain would.
  const file = join(dir, 'spillway.config.json');
  const { credentials: _p, ...primary } = config.primary as { credentials?: unknown };
  const { credentials: _s, ...secondary } = (config.secondaries?.[0] ?? {}) as { credentials?: unknown };
  await writeFile(file, JSON.stringify({ ...config, primary, secondaries: [secondary] }));
  return { config, file };
}

async function stream(): Promise<string> {
  const name = uniqueName();
  await Promise.all([ensureStream(regions.east.admin, name, 1), ensureStream(regions.west.admin, name, 1)]);
  return name;
}

/** Send with the primary down, then close: the records stay on the secondary (or in the spool). */
async function leaveBehind(config: BusConfigInput, records: Array<{ partitionKey: string; data: unknown; kind?: 'snapshot' }>, spoolToo = false): Promise<string[]> {
  const bus = await createBus(config, { logger: silentLogger });
  regions.east.proxy.setFault({ mode: 'refuse' });
  if (spoolToo) regions.west.proxy.setFault({ mode: 'refuse' });
  try {
    const results = await bus.sendBatch(records);
    expect(results.every((r) => r.ok && r.landedOn.tier !== 'primary')).toBe(true);
    return results.map((r) => (r.ok ? r.id : ''));
  } finally {
    regions.east.proxy.setFault({ mode: 'none' });
    regions.west.proxy.setFault({ mode: 'none' });
    await bus.close();
  }
}

const awsEnv = { ...process.env, AWS_ACCESS_KEY_ID: FAKE_CREDENTIALS.accessKeyId, AWS_SECRET_ACCESS_KEY: FAKE_CREDENTIALS.secretAccessKey };
const drain = async (file: string, ...flags: string[]) =>
  JSON.parse((await run(process.execPath, [bin, 'drain', '--config', file, '--json', ...flags], { env: awsEnv })).stdout) as Record<string, unknown>;

describe('spillway drain', () => {
  it('--dry-run counts what would be replayed, coalesced and skipped, and writes nothing; the drain then writes exactly that', async () => {
    const name = await stream();
    const { config, file } = await producerConfig(name);
    const records = [
      ...Array.from({ length: 30 }, (_, i) => ({ partitionKey: `k${i % 3}`, data: { i } })),
      ...Array.from({ length: 10 }, (_, i) => ({ partitionKey: 'meter', kind: 'snapshot' as const, data: { reading: i } })),
    ];
    await leaveBehind(config, records.slice(0, 20));
    await leaveBehind(config, records.slice(20), true);
    const plan = await drain(file, '--dry-run');
    expect(plan).toMatchObject({ records: 40, toWrite: 31, coalesced: 9, alreadyWritten: 0, duplicates: 0, unsurveyed: [] });
    expect(await regions.read(regions.east, name)).toHaveLength(0);
    const done = await drain(file);
    expect(done).toMatchObject({ written: 31, coalesced: 9 });
    expect(done.error).toBeUndefined();
    expect(await regions.read(regions.east, name)).toHaveLength(31);
    expect(await drain(file, '--dry-run')).toMatchObject({ records: 0, toWrite: 0 });
  }, 120_000); // several child processes, each loading the CLI: slow when the machine is busy

  it("leaves another producer's records on a shared secondary; --orphans drains them once, even when run twice", async () => {
    const name = await stream();
    const gone = await producerConfig(name);
    const survivor = await producerConfig(name);
    const ids = await leaveBehind(gone.config, Array.from({ length: 25 }, (_, i) => ({ partitionKey: `g${i % 4}`, data: { i } })));
    const own = await drain(survivor.file);
    expect(own).toMatchObject({ written: 0, otherProducers: 25 });
    expect(await regions.read(regions.east, name)).toHaveLength(0);
    const orphans = await drain(survivor.file, '--orphans');
    expect(orphans).toMatchObject({ written: 25 });
    await drain(survivor.file, '--orphans');
    const counts = idCounts(await regions.read(regions.east, name));
    expect(ids.filter((id) => counts.get(id) !== 1)).toEqual([]);
    expect(counts.size).toBe(25);
  }, 120_000);

  it('a region that cannot be read holds the drain back (exit 1, INCOMPLETE) and the records behind it stay; then all drain in order', async () => {
    const name = await stream();
    const producer = await producerConfig(name);
    const batch = (from: number) => Array.from({ length: 6 }, (_, i) => ({ partitionKey: `k${i % 2}`, data: from + i }));
    const onSecondary = await leaveBehind(producer.config, batch(0));
    const inSpool = await leaveBehind(producer.config, batch(100), true);
    regions.west.proxy.setFault({ mode: 'refuse' });
    let held: { code: number; stdout: string };
    try {
      held = await run(process.execPath, [bin, 'drain', '--config', producer.file, '--json', '--max-runs', '2'], { env: awsEnv }).then(
        (r) => ({ code: 0, stdout: r.stdout }),
        (e: { code: number; stdout: string }) => e,
      );
    } finally {
      regions.west.proxy.setFault({ mode: 'none' });
    }
    expect(held.code).toBe(1);
    const summary = JSON.parse(held.stdout) as { written: number; runs: number; unavailable: string[] };
    expect(summary).toMatchObject({ written: 0, runs: 2 });
    expect(summary.unavailable.join()).toContain(regions.west.name);
    expect(await regions.read(regions.east, name)).toEqual([]);
    expect(await drain(producer.file)).toMatchObject({ written: 12, unavailable: [] });
    const written = (await regions.read(regions.east, name)).map((e) => e.id);
    expect(written.filter((id) => onSecondary.includes(id) || inSpool.includes(id)).sort()).toEqual([...onSecondary, ...inSpool].sort());
    // Per key, the secondary's (older) records before the spool's.
    for (const key of ['k0', 'k1']) {
      const sent = [...onSecondary, ...inSpool].filter((_, i) => i % 2 === (key === 'k0' ? 0 : 1));
      expect(written.filter((id) => sent.includes(id))).toEqual(sent);
    }
  }, 120_000);

  it('--skip-unreadable drains the spool now while a region cannot be read, and says the drain is incomplete', async () => {
    const name = await stream();
    const producer = await producerConfig(name);
    const batch = (from: number) => Array.from({ length: 4 }, (_, i) => ({ partitionKey: 'k', data: from + i }));
    const onSecondary = await leaveBehind(producer.config, batch(0));
    const inSpool = await leaveBehind(producer.config, batch(100), true);
    regions.west.proxy.setFault({ mode: 'refuse' });
    let skipped: { code: number; stdout: string };
    try {
      skipped = await run(process.execPath, [bin, 'drain', '--config', producer.file, '--json', '--max-runs', '1', '--skip-unreadable'], { env: awsEnv }).then(
        (r) => ({ code: 0, stdout: r.stdout }),
        (e: { code: number; stdout: string }) => e,
      );
    } finally {
      regions.west.proxy.setFault({ mode: 'none' });
    }
    expect(skipped.code).toBe(1);
    expect(JSON.parse(skipped.stdout)).toMatchObject({ written: 4 });
    expect((await regions.read(regions.east, name)).map((e) => e.id)).toEqual(inSpool);
    expect(await drain(producer.file)).toMatchObject({ written: 4, unavailable: [] });
    expect((await regions.read(regions.east, name)).map((e) => e.id)).toEqual([...inSpool, ...onSecondary]);
  }, 120_000);

  it('takes --max-runs as a positive whole number only', async () => {
    const failed = await run(process.execPath, [bin, 'drain', '--max-runs', 'abc'], { env: { ...process.env, SPILLWAY_CONFIG: '' } }).then(
      () => undefined,
      (e: { stderr: string; code: number }) => e,
    );
    expect(failed?.code).toBe(2);
    expect(failed?.stderr).toMatch(/--max-runs <n>.*'abc' is invalid\. expected a positive whole number/);
  });

  it('says what to fix when no configuration is given', async () => {
    const failed = await run(process.execPath, [bin, 'drain'], { env: { ...process.env, SPILLWAY_CONFIG: '' } }).then(
      () => undefined,
      (e: { stderr: string; code: number }) => e,
    );
    expect(failed?.code).toBe(2);
    expect(failed?.stderr).toMatch(/pass --config FILE, set SPILLWAY_CONFIG/);
  });
});
