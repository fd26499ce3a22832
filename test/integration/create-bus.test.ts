/** createBus against a real emulator: start-up checks and a region that is down at start. */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createBus } from '../../src/bus/create-bus.js';
import { findFreePort } from '../../src/drill/emulators.js';
import { FAKE_CREDENTIALS, readAllRecords } from '../../src/drill/kinesis-admin.js';
import { startFaultProxy } from '../../src/drill/fault-proxy.js';
import { decodeEnvelope } from '../../src/envelope/index.js';
import { ConfigError, isSpillwayError } from '../../src/errors/index.js';
import type { BusEventMap } from '../../src/events/bus-events.js';
import { pino } from 'pino';
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

  describe('misconfiguration fails at start, naming the field, the value and the fix', () => {
    const servers: Array<() => Promise<void>> = [];
    afterEach(async () => {
      vi.unstubAllEnvs();
      for (const close of servers.splice(0)) await close();
    });
    /** A protocol-level stand-in for AWS answering every call with one JSON error (what Kinesis sends for a refused identity). */
    const awsError = async (type: string): Promise<string> => {
      const server = createServer((req, res) => {
        req.resume();
        req.on('end', () => {
          res.writeHead(400, { 'content-type': 'application/x-amz-json-1.1', 'x-amzn-errortype': type });
          res.end(JSON.stringify({ __type: type, message: `${type}: refused by the test responder` }));
        });
      });
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      servers.push(() => new Promise((resolve) => server.close(() => resolve())));
      return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    };
    /** No credentials anywhere the provider chain looks (this test's environment only). */
    const noCredentials = async () => {
      const dir = await spoolDir();
      await writeFile(join(dir, 'config'), '');
      await writeFile(join(dir, 'credentials'), '');
      for (const name of ['AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY', 'AWS_SESSION_TOKEN', 'AWS_PROFILE', 'AWS_WEB_IDENTITY_TOKEN_FILE', 'AWS_CONTAINER_CREDENTIALS_RELATIVE_URI', 'AWS_CONTAINER_CREDENTIALS_FULL_URI']) vi.stubEnv(name, undefined);
      vi.stubEnv('AWS_CONFIG_FILE', join(dir, 'config'));
      vi.stubEnv('AWS_SHARED_CREDENTIALS_FILE', join(dir, 'credentials'));
      vi.stubEnv('AWS_EC2_METADATA_DISABLED', 'true');
    };
    const kinesisTier = (stream: string, extra: Record<string, unknown> = {}) => ({ kind: 'kinesis' as const, region: 'us-east-1', stream, endpoint: kinesis.endpoint, credentials: FAKE_CREDENTIALS, ...extra });

    const cases: Array<{ name: string; config: (stream: string, dir: string) => Promise<unknown>; field: string; message: RegExp }> = [
      {
        name: 'a region that is not an AWS region, with the closest suggested',
        config: async (stream, dir) => ({ primary: kinesisTier(stream, { region: 'us-esat-1' }), spool: { kind: 'disk', dir } }),
        field: 'primary.region',
        message: /primary\.region: "us-esat-1" is not a known AWS region; did you mean "us-east-1"\?/,
      },
      {
        name: 'no credentials resolvable for a tier',
        config: async (stream, dir) => {
          await noCredentials();
          const { credentials: _none, ...withoutCredentials } = kinesisTier(stream);
          return { primary: kinesisTier(stream), secondaries: [{ ...withoutCredentials, region: 'us-west-2' }], spool: { kind: 'disk', dir } };
        },
        field: 'secondaries.0.credentials',
        message: /secondaries\.0 \(kinesis us-west-2\/.+\): no AWS credentials could be resolved .*looked at: environment variables AWS_ACCESS_KEY_ID.*profile "default" in .*credentials.*EC2 instance metadata \(disabled by AWS_EC2_METADATA_DISABLED\).*Fix: set AWS_PROFILE/s,
      },
      {
        name: 'AccessDeniedException from the probe',
        config: async (stream, dir) => ({ primary: kinesisTier(stream, { endpoint: await awsError('AccessDeniedException') }), spool: { kind: 'disk', dir } }),
        field: 'primary',
        message: /primary \(kinesis us-east-1\/.+\): AccessDeniedException: this identity may not use stream ".+" in us-east-1; grant this identity kinesis:PutRecords, kinesis:DescribeStreamSummary/,
      },
      {
        name: 'UnrecognizedClientException from the probe',
        config: async (stream, dir) => ({ primary: kinesisTier(stream, { endpoint: await awsError('UnrecognizedClientException') }), spool: { kind: 'disk', dir } }),
        field: 'primary',
        message: /UnrecognizedClientException: .*the access key is not known to AWS in this region/,
      },
      {
        name: 'an expired token from the probe',
        config: async (stream, dir) => ({ primary: kinesisTier(stream), secondaries: [kinesisTier(stream, { region: 'us-west-2', endpoint: await awsError('ExpiredTokenException') })], spool: { kind: 'disk', dir } }),
        field: 'secondaries.0',
        message: /secondaries\.0 .*ExpiredTokenException: .*the session token has expired: renew the credentials/,
      },
      {
        name: 'a stream that does not exist',
        config: async (stream, dir) => ({ primary: kinesisTier(`${stream}-missing`), spool: { kind: 'disk', dir } }),
        field: 'primary.stream',
        message: /primary\.stream: stream ".+-missing" does not exist in us-east-1; create it, or fix primary\.stream \/ primary\.region/,
      },
      {
        name: 'a secondary that is the primary',
        config: async (stream, dir) => ({ primary: kinesisTier(stream), secondaries: [kinesisTier(stream)], spool: { kind: 'disk', dir } }),
        field: 'secondaries.0',
        message: /secondaries\.0 \(kinesis us-east-1\/.+\) is the same target as primary/,
      },
      {
        name: 'an unknown key, with the closest suggested',
        config: async (stream, dir) => ({ primary: kinesisTier(stream), spool: { kind: 'disk', dir }, reconciller: {} }),
        field: 'reconciller',
        message: /reconciller: unknown key "reconciller"; did you mean "reconciler"\?/,
      },
    ];

    it.each(cases)('$name', async ({ config, field, message }) => {
      const stream = await kinesis.createStream();
      const dir = await spoolDir();
      const error = await createBus((await config(stream, dir)) as never, { logger: silentLogger }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(ConfigError);
      expect((error as ConfigError).field).toBe(field);
      expect((error as Error).message).toMatch(message);
      expect((error as Error).message).not.toContain(FAKE_CREDENTIALS.secretAccessKey);
    });

    it('at run time an authorization error is not an outage: records go to the next tier, logged once with the fix', async () => {
      const dir = await spoolDir();
      const lines: Array<{ level: number; fix?: string; target?: string }> = [];
      const logger = pino({ level: 'error' }, { write: (line: string) => void lines.push(JSON.parse(line)) });
      const bus = await createBus(
        { primary: kinesisTier('orders', { endpoint: await awsError('AccessDeniedException') }), spool: { kind: 'disk', dir }, verifyStreams: false, failback: { mode: 'immediate' }, reconciler: { enabled: false }, breaker: { volumeThreshold: 100, consecutiveFailures: 100 } },
        { logger },
      );
      const events: Array<BusEventMap['target.unauthorized']> = [];
      bus.events.on('target.unauthorized', (e) => events.push(e));
      try {
        const results = [...(await bus.sendBatch(Array.from({ length: 10 }, (_, i) => ({ partitionKey: 'k', data: i })))), ...(await bus.sendBatch([{ partitionKey: 'k', data: 'more' }]))];
        expect(results.every((r) => r.ok && r.landedOn.tier === 'spool')).toBe(true);
        expect((await bus.stats()).spool.records).toBe(11);
        expect(events.map((e) => e.records)).toEqual([10, 1]);
        expect(events[0]?.fix).toMatch(/grant this identity kinesis:PutRecords/);
        expect(lines.filter((l) => l.level === 50 && l.target === 'kinesis:us-east-1:orders')).toHaveLength(1);
      } finally {
        await bus.close();
      }
    });
  });
});
