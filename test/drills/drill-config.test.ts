/** `--config`: what the drill takes from a user's file, and what it refuses (with what to do). */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { configRegions, loadUserConfig } from '../../src/drill/drill-config.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'spillway-drill-config-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function file(name: string, text: string): Promise<string> {
  const path = join(dir, name);
  await writeFile(path, text);
  return path;
}

describe('drill --config', () => {
  it('reads a YAML short form and drills its regions, spool limits and reconciler cap', async () => {
    const path = await file('short.yaml', 'stream: orders\nregions: [eu-west-1, eu-central-1]\nspool: { kind: disk, dir: /var/lib/spool, maxBytes: 1048576 }\nreconciler: { maxRecordsPerSecond: 250 }\n');
    const config = await loadUserConfig(path);
    expect(configRegions(config)).toEqual(['eu-west-1', 'eu-central-1']);
    expect(config.spools[0]).toMatchObject({ kind: 'disk', maxBytes: 1048576 });
    expect(config.reconciler.maxRecordsPerSecond).toBe(250);
  });

  it('refuses a configuration without a secondary, saying what to add', async () => {
    const path = await file('single.json', JSON.stringify({ primary: { kind: 'kinesis', region: 'eu-west-1', stream: 'orders' }, spool: { kind: 'disk', dir: '/x' } }));
    await expect(loadUserConfig(path)).rejects.toThrow(/needs a secondary tier to fail over to; add one under secondaries/);
  });
});
