/**
 * `spillway config check` over one tier of every kind: a Kinesis primary
 * (kinesalite), an SQS secondary (fauxqs), an EventBridge secondary (the
 * protocol-level fake, its rule delivering to a fauxqs queue), and a spool
 * chain of Redis (the shared server on 6379) and disk, with one Kinesis
 * secondary that is unreachable. The CLI runs as a real child process.
 */
import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { stringify } from 'yaml';
import { afterAll, describe, expect, it } from 'vitest';
import { findFreePort } from '../../src/drill/emulators.js';
import { FAKE_CREDENTIALS } from '../../src/drill/kinesis-admin.js';
import { useKinesisEmulator } from '../helpers/emulators.js';
import { useEventBridgeFake } from '../helpers/eventbridge.js';
import { useSqsEmulator } from '../helpers/sqs.js';

const run = promisify(execFile);
const ROOT = resolve(import.meta.dirname, '../..');
const TSX = join(ROOT, 'node_modules/.bin/tsx');
const MAIN = join(ROOT, 'src/cli/main.ts');

describe('spillway config check, every kind', () => {
  const kinesis = useKinesisEmulator('kinesalite');
  const sqs = useSqsEmulator();
  const eb = useEventBridgeFake(sqs);
  const dirs: string[] = [];
  afterAll(async () => {
    for (const dir of dirs) await rm(dir, { recursive: true, force: true });
  });

  it('prints one row per tier and spool, says which is down and why, and exits 0 with the primary and fallbacks usable', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'spillway-check-kinds-'));
    dirs.push(dir);
    const stream = await kinesis.createStream();
    const { queueUrl } = await sqs.createQueue();
    const bus = await eb.createBus();
    const { credentials: _c, ...eventbridge } = bus.config;
    const config = {
      primary: { kind: 'kinesis', region: 'us-east-1', stream, endpoint: kinesis.endpoint },
      secondaries: [
        { kind: 'kinesis', region: 'us-east-2', stream, endpoint: `http://127.0.0.1:${await findFreePort()}` },
        { kind: 'sqs', region: 'us-west-2', queueUrl, endpoint: sqs.proxy.url },
        eventbridge,
      ],
      spool: [
        { kind: 'redis', url: 'redis://127.0.0.1:6379', keyPrefix: `check-${randomUUID()}` },
        { kind: 'disk', dir: join(dir, 'spool') },
      ],
    };
    const file = join(dir, 'spillway.config.yaml');
    await writeFile(file, stringify(config));
    const env = { ...process.env, AWS_ACCESS_KEY_ID: FAKE_CREDENTIALS.accessKeyId, AWS_SECRET_ACCESS_KEY: FAKE_CREDENTIALS.secretAccessKey };
    const out = await run(TSX, [MAIN, 'config', 'check', '--config', file], { env, cwd: ROOT, timeout: 60_000 }).then(
      (r) => ({ code: 0, stdout: r.stdout }),
      (e: { code?: number; stdout?: string }) => ({ code: e.code ?? -1, stdout: e.stdout ?? '' }),
    );
    expect(out.stdout).toMatch(/primary\s+primary\s+kinesis us-east-1\/\S+\s+yes\s+yes/);
    expect(out.stdout).toMatch(/secondary\s+secondaries\.0\s+kinesis us-east-2\/\S+\s+no\s+no/);
    expect(out.stdout).toMatch(/secondary\s+secondaries\.1\s+sqs us-west-2\/\S+\s+yes\s+yes/);
    expect(out.stdout).toMatch(/secondary\s+secondaries\.2\s+eventbridge us-west-2\/\S+ \(drained from \S+\)\s+yes\s+yes\s+\S+: bus found/);
    expect(out.stdout).toMatch(/spool\s+spool\.0\s+redis \S+\s+yes\s+yes/);
    expect(out.stdout).toMatch(/spool\s+spool\.1\s+disk \S+\s+yes\s+yes/);
    expect(out.stdout).toMatch(/down: secondaries\.0 .*unreachable/);
    expect(out.stdout).toMatch(/warning: secondaries\.1 .* takes records up to 192 KiB, below the 1024 KiB the bus accepts/);
    expect(out.stdout).toMatch(/OK: the primary and 4 fallback tier\(s\) are usable/);
    expect(out.stdout).not.toContain(FAKE_CREDENTIALS.secretAccessKey);
    expect(out.code).toBe(0);
  }, 90_000);
});
