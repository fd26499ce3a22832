/** `spillway spool inspect` and `spillway spool verify` on real spool directories. */
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Command } from 'commander';
import { describe, expect, it } from 'vitest';
import { createDiskSpool } from '../../adapters/disk/index.js';
import { encodeFrames } from '../../adapters/disk/framing.js';
import { inspectDiskSpool } from '../../adapters/disk/inspect.js';
import { spoolCommand } from '../../src/cli/spool-command.js';
import { createSpoolCipher } from '../../src/crypto/spool-cipher.js';
import { ConfigError } from '../../src/errors/index.js';
import { makeEnvelopes, useScratch } from '../helpers/spool-fixtures.js';
import { watchSpool } from '../helpers/spool-log.js';

const { tempDir } = useScratch('inspect');
const records = makeEnvelopes(0, 30, 'in', 40);

async function spoolDir(options: { key?: Buffer } = {}): Promise<{ dir: string; segment: string }> {
  const dir = await tempDir();
  const spool = await createDiskSpool({ dir, logger: watchSpool().logger, ...(options.key === undefined ? {} : { cipher: createSpoolCipher(options.key) }) });
  await spool.append(records.slice(0, 10));
  await spool.append(records.slice(10));
  await spool.ack(await spool.lease(5));
  await spool.close();
  const [segment] = (await readdir(dir)).filter((f) => f.endsWith('.seg'));
  return { dir, segment: join(dir, segment!) };
}

/** Run `spillway spool ...args`; its stdout and exit code. */
async function cli(...args: string[]): Promise<{ out: string; code: number }> {
  const write = process.stdout.write.bind(process.stdout);
  let out = '';
  process.stdout.write = ((chunk: string) => {
    out += chunk;
    return true;
  }) as typeof process.stdout.write;
  const before = process.exitCode;
  process.exitCode = 0;
  try {
    await new Command('spillway').exitOverride().addCommand(spoolCommand()).parseAsync(['spool', ...args], { from: 'user' });
    return { out, code: Number(process.exitCode ?? 0) };
  } finally {
    process.stdout.write = write;
    process.exitCode = before;
  }
}

describe('spillway spool inspect', () => {
  it('reports records, bytes, event times, segments and quarantine without changing the directory', async () => {
    const { dir, segment } = await spoolDir();
    const before = await readFile(segment);
    const report = await inspectDiskSpool(dir);
    expect(report).toMatchObject({ records: 25, segments: 1, sealedRecords: 0, quarantined: { files: 0, bytes: 0 }, findings: [] });
    expect(report.bytes).toBe(encodeFrames(records.slice(5)).buffer.length);
    expect(report.oldestEventTime).toBe(records[5]!.eventTime);
    expect(report.newestEventTime).toBe(records[29]!.eventTime);
    const { out, code } = await cli('inspect', dir);
    expect(code).toBe(0);
    expect(out).toMatch(/25 not yet acknowledged .* in 1 segment/);
    expect(out).toContain(new Date(records[5]!.eventTime).toISOString());
    expect(await readFile(segment)).toEqual(before);
  });

  it('reads event times of an encrypted spool only with the key, and refuses a path that is not a spool directory', async () => {
    const key = randomBytes(32);
    const { dir } = await spoolDir({ key });
    expect(await inspectDiskSpool(dir)).toMatchObject({ records: 25, sealedRecords: 25 });
    expect((await inspectDiskSpool(dir)).oldestEventTime).toBeUndefined();
    process.env.SPILLWAY_TEST_INSPECT_KEY = key.toString('base64');
    const { out } = await cli('inspect', dir, '--key-env', 'SPILLWAY_TEST_INSPECT_KEY');
    expect(out).toContain(new Date(records[5]!.eventTime).toISOString());
    delete process.env.SPILLWAY_TEST_UNSET_KEY;
    await expect(cli('inspect', dir, '--key-env', 'SPILLWAY_TEST_UNSET_KEY')).rejects.toThrow(
      /^--key-env SPILLWAY_TEST_UNSET_KEY: the environment variable SPILLWAY_TEST_UNSET_KEY is not set; export the 32-byte spool key in it$/,
    );
    await expect(inspectDiskSpool(join(dir, 'CURSOR'))).rejects.toThrow(ConfigError);
  });

  it('hands a redis:// URL to the Redis adapter, or says Redis inspect is not available without one', async () => {
    const { out, code } = await cli('inspect', 'redis://127.0.0.1:6379/0');
    if (existsSync(new URL('../../adapters/redis/index.ts', import.meta.url))) {
      expect(code).toBe(0);
      expect(out.length).toBeGreaterThan(0);
    } else {
      expect(code).toBe(2);
      expect(out).toBe('');
    }
  });
});

describe('spillway spool verify', () => {
  it('exits 0 on a sound spool and 1 on damage, printing file and offset (also before the cursor)', async () => {
    const { dir, segment } = await spoolDir();
    expect((await cli('verify', dir)).code).toBe(0);
    const bytes = await readFile(segment);
    const offset = encodeFrames(records.slice(0, 2)).buffer.length; // an acknowledged record, before the cursor
    bytes[offset + 12]! ^= 0x40;
    await writeFile(segment, bytes);
    const { out, code } = await cli('verify', dir);
    expect(code).toBe(1);
    expect(out).toContain(`damage ${segment} at byte ${offset}`);
  });
});
