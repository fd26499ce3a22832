import { describe, expect, it } from 'vitest';
import { ConfigError, parseBusConfig } from '../../src/index.js';
import { editDistance, closestName } from '../../src/config/suggest.js';
import { configWarnings } from '../../src/config/warnings.js';

const valid = {
  primary: { kind: 'kinesis', region: 'us-east-1', stream: 'orders' },
  secondaries: [{ kind: 'kinesis', region: 'us-west-2', stream: 'orders' }],
  spool: { kind: 'disk', dir: '/tmp/spool' },
};

function configError(input: unknown): ConfigError {
  try {
    parseBusConfig(input);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return error as ConfigError;
  }
  throw new Error('expected a ConfigError');
}

describe('bus configuration', () => {
  it('accepts a minimal configuration, fills in defaults, and makes the spool a chain of one', () => {
    const config = parseBusConfig(valid);
    expect(config.verifyStreams).toBe(true);
    expect(config.reconciler.enabled).toBe(true);
    expect(config.spools).toEqual([{ kind: 'disk', dir: '/tmp/spool' }]);
    expect(parseBusConfig({ ...valid, secondaries: undefined }).secondaries).toEqual([]);
  });

  it('takes a delivery backoff for throttled records, and refuses a base above its cap', () => {
    expect(parseBusConfig({ ...valid, delivery: { backoff: { baseMs: 100, capMs: 200 } } }).delivery).toEqual({ backoff: { baseMs: 100, capMs: 200 } });
    expect(configError({ ...valid, delivery: { backoff: { baseMs: 500, capMs: 200 } } }).message).toMatch(/delivery\.backoff\.baseMs must not be above capMs/);
    expect(configError({ ...valid, delivery: { backoff: { baseMs: 100, cap: 200 } } }).message).toMatch(/delivery\.backoff/);
  });

  it('names the field, the bad value and the closest region', () => {
    const error = configError({ ...valid, primary: { ...valid.primary, region: 'us-esat-1' } });
    expect(error.field).toBe('primary.region');
    expect(error.message).toMatch(/primary\.region: "us-esat-1" is not a known AWS region; did you mean "us-east-1"\?/);
    expect(configError({ ...valid, secondaries: [{ kind: 'kinesis', region: 'us-east-l', stream: 'orders' }] }).message).toMatch(
      /secondaries\.0\.region: "us-east-l" is not a known AWS region; did you mean "us-east-1"\?/,
    );
  });

  it('accepts GovCloud and China regions from the region list', () => {
    expect(parseBusConfig({ ...valid, primary: { ...valid.primary, region: 'us-gov-west-1' }, secondaries: [{ kind: 'kinesis', region: 'cn-north-1', stream: 'orders' }] }).primary).toMatchObject({
      region: 'us-gov-west-1',
    });
  });

  it('names a missing stream, a missing spool dir and an unknown key with the closest key', () => {
    const error = configError({ primary: { kind: 'kinesis', region: 'us-east-1' }, spool: { kind: 'disk', dir: '' }, retries: 3, breakr: {} });
    expect(error.message).toMatch(/primary\.stream: stream is required/);
    expect(error.message).toMatch(/spool\.dir: dir is required/);
    expect(error.message).toMatch(/retries: unknown key "retries" \(known keys:/);
    expect(error.message).toMatch(/breakr: unknown key "breakr"; did you mean "breaker"\?/);
  });

  it('lists each known key once in the hint of a short-form file', () => {
    const message = configError({ stream: 'orders', regions: ['us-east-1', 'us-west-2'], spool: { kind: 'disk', dir: '/a' }, reconciller: {} }).message;
    const known = /reconciller: unknown key "reconciller"; did you mean "reconciler"\? \(known keys: ([^)]*)\)/.exec(message)?.[1]?.split(', ') ?? [];
    expect(known).toContain('regions');
    expect(known.length).toBe(new Set(known).size);
  });

  it('suggests the closest key inside a tier and inside a section', () => {
    const error = configError({ ...valid, primary: { ...valid.primary, strem: 'x' }, batching: { lingerMS: 5 } });
    expect(error.message).toMatch(/primary\.strem: unknown key "strem"; did you mean "stream"\?/);
    expect(error.message).toMatch(/batching\.lingerMS: unknown key "lingerMS"; did you mean "lingerMs"\?/);
  });

  it('suggests the closest kind for an unknown tier or spool kind', () => {
    expect(configError({ ...valid, primary: { ...valid.primary, kind: 'kinesys' } }).message).toMatch(/primary\.kind: "kinesys" is not a tier kind; did you mean "kinesis"\?/);
    expect(configError({ ...valid, spool: [{ kind: 'dsk', dir: '/a' }] }).message).toMatch(/spool\.0\.kind: "dsk" is not a spool kind; did you mean "disk"\?/);
  });

  it('rejects a secondary that is the primary under another name', () => {
    const error = configError({ ...valid, secondaries: [{ kind: 'kinesis', region: 'us-east-1', stream: 'orders' }] });
    expect(error.field).toBe('secondaries.0');
    expect(error.message).toMatch(/secondaries\.0 \(kinesis us-east-1\/orders\) is the same target as primary/);
  });

  it('rejects an endpoint that is not a URL, and an empty spool chain', () => {
    expect(configError({ ...valid, primary: { ...valid.primary, endpoint: 'localhost:4566' } }).field).toBe('primary.endpoint');
    expect(configError({ ...valid, spool: [] }).message).toMatch(/spool: spool list is empty/);
  });

  it('takes a chain of spools and needs stateDir when none has a dir', () => {
    expect(parseBusConfig({ ...valid, spool: [{ kind: 'disk', dir: '/a' }, { kind: 'disk', dir: '/b' }] }).spools).toHaveLength(2);
    expect(configError({ ...valid, spool: [{ kind: 'disk', dir: '/a' }, { kind: 'disk', dir: '/a' }] }).field).toBe('spool.1');
  });
});

describe('short form', () => {
  it('expands to a Kinesis primary in the first region and a secondary per next region, with endpoints', () => {
    const config = parseBusConfig({ stream: 'orders', regions: ['us-east-1', 'us-west-2', 'eu-west-1'], endpoints: { 'us-west-2': 'http://127.0.0.1:4567' }, spool: { kind: 'disk', dir: '/s' }, breaker: { volumeThreshold: 2 } });
    expect(config.primary).toEqual({ kind: 'kinesis', region: 'us-east-1', stream: 'orders' });
    expect(config.secondaries).toEqual([
      { kind: 'kinesis', region: 'us-west-2', stream: 'orders', endpoint: 'http://127.0.0.1:4567' },
      { kind: 'kinesis', region: 'eu-west-1', stream: 'orders' },
    ]);
    expect(config.breaker).toEqual({ volumeThreshold: 2 });
  });

  it('names the region by its index, an endpoint for an unlisted region, and a mix of forms', () => {
    expect(configError({ stream: 'o', regions: ['us-east-1', 'eu-wset-1'], spool: { kind: 'disk', dir: '/s' } }).message).toMatch(/regions\.1: "eu-wset-1" .*did you mean "eu-west-1"/);
    expect(configError({ stream: 'o', regions: ['us-east-1'], endpoints: { 'us-west-2': 'http://x:1' }, spool: { kind: 'disk', dir: '/s' } }).message).toMatch(/endpoints\.us-west-2: "us-west-2" is not one of regions/);
    expect(configError({ stream: 'o', regions: ['us-east-1'], primary: valid.primary, spool: { kind: 'disk', dir: '/s' } }).message).toMatch(/mixes the short form/);
    expect(configError({ stream: 'o', regions: ['us-east-1'], spool: { kind: 'disk', dir: '/s' }, regoins: [] }).message).toMatch(/did you mean "regions"/);
  });
});

describe('warnings and suggestions', () => {
  it('has no warning for Kinesis tiers and a disk spool', () => {
    expect(configWarnings(parseBusConfig(valid))).toEqual([]);
  });

  it('counts a swap of neighbours as one edit and gives up on far names', () => {
    expect(editDistance('us-esat-1', 'us-east-1')).toBe(1);
    expect(closestName('ap-southeast-9', ['ap-southeast-1', 'eu-west-1'])).toBe('ap-southeast-1');
    expect(closestName('zzzzzz', ['breaker', 'batching'])).toBeUndefined();
  });
});
