import { describe, expect, it } from 'vitest';
import { ConfigError, parseBusConfig } from '../../src/index.js';

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
  it('accepts a minimal configuration and fills in defaults', () => {
    const config = parseBusConfig(valid);
    expect(config.verifyStreams).toBe(true);
    expect(config.reconciler.enabled).toBe(true);
    expect(parseBusConfig({ ...valid, secondaries: undefined }).secondaries).toEqual([]);
  });

  it('names the field and the fix for a bad region', () => {
    const error = configError({ ...valid, secondaries: [{ kind: 'kinesis', region: 'us-east-l', stream: 'orders' }] });
    expect(error.field).toBe('secondaries.0.region');
    expect(error.message).toMatch(/secondaries\.0\.region: "us-east-l" is not an AWS region name; use one like "us-east-1"/);
  });

  it('names a missing stream, a missing spool dir and an unknown key', () => {
    const error = configError({ primary: { kind: 'kinesis', region: 'us-east-1' }, spool: { kind: 'disk', dir: '' }, retries: 3 });
    expect(error.message).toMatch(/primary\.stream: stream is required/);
    expect(error.message).toMatch(/spool\.dir: spool\.dir is required/);
    expect(error.message).toMatch(/retries/);
  });

  it('rejects a secondary that is the primary under another name', () => {
    const error = configError({ ...valid, secondaries: [{ kind: 'kinesis', region: 'us-east-1', stream: 'orders' }] });
    expect(error.field).toBe('secondaries.0');
    expect(error.message).toMatch(/same stream as primary/);
  });

  it('rejects an endpoint that is not a URL', () => {
    const error = configError({ ...valid, primary: { ...valid.primary, endpoint: 'localhost:4566' } });
    expect(error.field).toBe('primary.endpoint');
  });
});
