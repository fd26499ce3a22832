/** Configuration files (YAML and JSON), how they are found, and environment overrides. */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { defaultLogger } from '../../src/bus/create-bus.js';
import { applyEnvOverrides } from '../../src/config/env.js';
import { findConfigFile, loadConfig } from '../../src/config/load.js';
import { parseBusConfig } from '../../src/config/parse.js';
import { ConfigError } from '../../src/errors/index.js';

const dirs: string[] = [];
async function scratch(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'spillway-config-'));
  dirs.push(dir);
  return dir;
}
afterEach(async () => {
  for (const dir of dirs.splice(0)) await rm(dir, { recursive: true, force: true });
});

const YAML = `
stream: orders
regions: [us-east-1, us-west-2]
spool:
  - { kind: disk, dir: /var/lib/spillway/a }
  - { kind: disk, dir: /var/lib/spillway/b }
breaker:
  resetTimeoutMs: 1000
`;

describe('loadConfig', () => {
  it('reads a YAML short form and a JSON long form', async () => {
    const dir = await scratch();
    await writeFile(join(dir, 'spillway.config.yaml'), YAML);
    const fromYaml = parseBusConfig(await loadConfig(join(dir, 'spillway.config.yaml'), { env: {} }));
    expect(fromYaml.primary).toMatchObject({ kind: 'kinesis', region: 'us-east-1', stream: 'orders' });
    expect(fromYaml.secondaries).toHaveLength(1);
    expect(fromYaml.spools.map((s) => (s as { dir: string }).dir)).toEqual(['/var/lib/spillway/a', '/var/lib/spillway/b']);

    const json = { primary: { kind: 'kinesis', region: 'eu-west-1', stream: 'o' }, spool: { kind: 'disk', dir: '/s' } };
    await writeFile(join(dir, 'c.json'), JSON.stringify(json));
    expect(parseBusConfig(await loadConfig(join(dir, 'c.json'), { env: {} })).primary).toMatchObject({ region: 'eu-west-1' });
  });

  it('names the file and the place of a syntax error, and the field of a bad value', async () => {
    const dir = await scratch();
    await writeFile(join(dir, 'bad.yaml'), 'stream: orders\nregions: [us-east-1\n');
    const syntax = await loadConfig(join(dir, 'bad.yaml'), { env: {} }).catch((e: unknown) => e);
    expect(syntax).toBeInstanceOf(ConfigError);
    expect((syntax as Error).message).toMatch(/bad\.yaml is not valid YAML/);
    await writeFile(join(dir, 'typo.json'), JSON.stringify({ primary: { kind: 'kinesis', region: 'us-esat-1', stream: 'o' }, spool: { kind: 'disk', dir: '/s' } }));
    const value = await loadConfig(join(dir, 'typo.json'), { env: {} }).catch((e: unknown) => e);
    expect((value as ConfigError).field).toBe('primary.region');
    expect((value as Error).message).toMatch(/typo\.json: .*did you mean "us-east-1"/s);
    const missing = await loadConfig(join(dir, 'nope.yaml'), { env: {} }).catch((e: unknown) => e);
    expect((missing as Error).message).toMatch(/nope\.yaml could not be read/);
  });

  it('applies environment overrides and names the variable behind a bad value', async () => {
    const dir = await scratch();
    await writeFile(join(dir, 'c.yaml'), YAML);
    const env = { SPILLWAY_PRIMARY_REGION: 'eu-central-1', SPILLWAY_ENDPOINT: 'http://127.0.0.1:4566', SPILLWAY_ENDPOINT_US_WEST_2: 'http://127.0.0.1:4567' };
    const config = parseBusConfig(await loadConfig(join(dir, 'c.yaml'), { env }));
    expect(config.primary).toMatchObject({ region: 'eu-central-1', endpoint: 'http://127.0.0.1:4566' });
    expect(config.secondaries[0]).toMatchObject({ region: 'us-west-2', endpoint: 'http://127.0.0.1:4567' });

    const bad = await loadConfig(join(dir, 'c.yaml'), { env: { SPILLWAY_PRIMARY_REGION: 'us-esat-1' } }).catch((e: unknown) => e);
    expect((bad as Error).message).toMatch(/regions\.0: "us-esat-1".*did you mean "us-east-1".*environment variable SPILLWAY_PRIMARY_REGION/s);
  });

  it('overrides the long form too, without changing the object it was given', () => {
    const raw = { primary: { kind: 'kinesis', region: 'us-east-1', stream: 'o' }, secondaries: [{ kind: 'kinesis', region: 'us-west-2', stream: 'o' }], spool: { kind: 'disk', dir: '/s' } };
    const { config, sources } = applyEnvOverrides(raw, { SPILLWAY_PRIMARY_REGION: 'us-east-2', SPILLWAY_ENDPOINT_US_WEST_2: 'http://w:1' });
    expect(parseBusConfig(config).primary).toMatchObject({ region: 'us-east-2' });
    expect(parseBusConfig(config).primary).not.toHaveProperty('endpoint');
    expect(parseBusConfig(config).secondaries[0]).toMatchObject({ endpoint: 'http://w:1' });
    expect([...sources]).toEqual([['primary.region', 'SPILLWAY_PRIMARY_REGION'], ['secondaries.0.endpoint', 'SPILLWAY_ENDPOINT_US_WEST_2']]);
    expect(raw.primary.region).toBe('us-east-1');
  });
});

describe('findConfigFile', () => {
  it('prefers --config, then SPILLWAY_CONFIG, then spillway.config.* in the directory', async () => {
    const dir = await scratch();
    expect(await findConfigFile('/x/given.yaml', { env: { SPILLWAY_CONFIG: '/y/env.yaml' }, cwd: dir })).toBe('/x/given.yaml');
    expect(await findConfigFile(undefined, { env: { SPILLWAY_CONFIG: '/y/env.yaml' }, cwd: dir })).toBe('/y/env.yaml');
    const none = await findConfigFile(undefined, { env: {}, cwd: dir }).catch((e: unknown) => e);
    expect(none).toBeInstanceOf(ConfigError);
    expect((none as Error).message).toMatch(/pass --config FILE, set SPILLWAY_CONFIG, or create spillway\.config\.yaml/);
    await writeFile(join(dir, 'spillway.config.json'), '{}');
    expect(await findConfigFile(undefined, { env: {}, cwd: dir })).toBe(join(dir, 'spillway.config.json'));
    await writeFile(join(dir, 'spillway.config.yaml'), '{}');
    expect(await findConfigFile(undefined, { env: {}, cwd: dir })).toBe(join(dir, 'spillway.config.yaml'));
  });
});

describe('SPILLWAY_LOG_LEVEL', () => {
  afterEach(() => vi.unstubAllEnvs());
  it('sets the default logger\'s level (warn otherwise)', () => {
    vi.stubEnv('SPILLWAY_LOG_LEVEL', undefined);
    expect(defaultLogger().level).toBe('warn');
    vi.stubEnv('SPILLWAY_LOG_LEVEL', 'debug');
    expect(defaultLogger().level).toBe('debug');
  });
});
