/** Bad consumer options are a ConfigError naming the field, before anything is opened. */
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createConsumer } from '../../src/consumer/index.js';
import type { ConsumerOptions } from '../../src/consumer/types.js';
import { ConfigError } from '../../src/errors/index.js';

describe('consumer options', () => {
  const dirs: string[] = [];
  afterEach(async () => {
    for (const d of dirs.splice(0)) await rm(d, { recursive: true, force: true });
  });

  async function attempt(options: Partial<ConsumerOptions>): Promise<{ error: unknown; files: string[] }> {
    const dir = await mkdtemp(join(tmpdir(), 'spillway-consumer-options-'));
    dirs.push(dir);
    const config = { primary: { kind: 'kinesis' as const, region: 'us-east-1', stream: 'orders', endpoint: 'http://127.0.0.1:1' }, spool: { kind: 'disk' as const, dir } };
    const error = await createConsumer(config, { group: 'g', ...options } as ConsumerOptions).then((c) => c.close(), (e: unknown) => e);
    return { error, files: await readdir(dir) };
  }

  it.each([
    [{ group: 'has spaces' }, 'group'],
    [{ concurrency: 0 }, 'concurrency'],
    [{ maxInFlight: 1.5 }, 'maxInFlight'],
    [{ readLimit: 20_000 }, 'readLimit'],
    [{ retry: { maxAttempts: -1 } }, 'retry.maxAttempts'],
    [{ checkpoints: { kind: 'redis', url: 'localhost:6379' } }, 'checkpoints.url'],
  ] as Array<[Partial<ConsumerOptions>, string]>)('rejects %j naming %s, and writes nothing', async (options, field) => {
    const { error, files } = await attempt(options);
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).field).toBe(field);
    expect((error as Error).message).toContain(field);
    expect(files).toEqual([]);
  });

  it('rejects a bad bus configuration with the bus config error', async () => {
    await expect(createConsumer({ primary: { kind: 'kinesis', region: 'us-east-l', stream: 'x' } } as never, { group: 'g' })).rejects.toBeInstanceOf(ConfigError);
  });
});
