/** Parts of the newer scenarios on hand-made inputs: capability skips, the consumer's endpoints, rejection causes. */
import { describe, expect, it } from 'vitest';
import { AllTiersFailedError, SpoolFullError, TransientError } from '../../src/errors/index.js';
import { consumerConfig } from '../../src/drill/consumer-tally.js';
import type { DrillEnvironment } from '../../src/drill/environment.js';
import { errorKind, type SentRecord } from '../../src/drill/load.js';
import { runScenario } from '../../src/drill/scenario-run.js';
import { SCENARIOS } from '../../src/drill/scenarios/index.js';
import { rejectionsAreSpoolFull } from '../../src/drill/scenarios/spool-limits.js';
import { silentLogger } from '../helpers/bus-parts.js';

const region = (name: string, proxy: string, upstream: string) => ({ name, upstream, proxy: { url: proxy }, admin: {} }) as unknown as DrillEnvironment['primary'];
const env = (missing: Array<[string, string]> = []): DrillEnvironment =>
  ({ label: 'test', primary: region('us-east-1', 'http://proxy-a', 'http://up-a'), secondary: region('us-west-2', 'http://proxy-b', 'http://up-b'), missing: new Map(missing), close: async () => undefined }) as DrillEnvironment;
const settings = { rate: 100, phaseMs: 200, shards: 1, paceRecordsPerSecond: 100, recoveryTimeoutMs: 1_000, logger: silentLogger };

describe('drill scenario parts', () => {
  it('skips the Redis spool scenario with the printed reason when redis-server is missing', async () => {
    const redis = SCENARIOS.find((s) => s.name === 'redis-spool-killed');
    expect(redis?.needs).toContain('redis');
    const result = await runScenario(redis as (typeof SCENARIOS)[number], env([['redis', 'no redis-server on the PATH']]), settings);
    expect(result).toMatchObject({ name: 'redis-spool-killed', passed: true, skipped: 'no redis-server on the PATH' });
  });

  it('points the consumer at the emulators unless the scenario reads through the faults', () => {
    const kinesis = (endpoint: string) => ({ kind: 'kinesis' as const, region: 'us-east-1', stream: 's', endpoint });
    const config = { primary: kinesis('http://proxy-a'), secondaries: [kinesis('http://proxy-b')], spool: { kind: 'disk' as const, dir: '/x' } };
    const direct = consumerConfig(config, env(), 'direct');
    expect([direct.primary, ...(direct.secondaries ?? [])].map((t) => (t as { endpoint: string }).endpoint)).toEqual(['http://up-a', 'http://up-b']);
    expect(consumerConfig(config, env(), 'through-faults')).toBe(config);
  });

  it('names the spool error behind a send every tier refused, and flags rejections that were not SpoolFullError', () => {
    const full = new AllTiersFailedError('r1', [
      { tier: 'primary', target: 'kinesis:a', error: new TransientError('refused') },
      { tier: 'spool', target: 'disk:/x', error: new SpoolFullError('spool /x is full') },
    ]);
    expect(errorKind(full)).toBe('SpoolFullError');
    expect(errorKind(new TransientError('refused'))).toBe('TransientError');
    const rejected = (kind: string): SentRecord => ({ seq: 1, phase: 'p', kind: 'delta', partitionKey: 'k', error: 'no', errorKind: kind, sentAt: 0, settledAt: 1 });
    expect(rejectionsAreSpoolFull([rejected('SpoolFullError')]).passed).toBe(true);
    expect(rejectionsAreSpoolFull([rejected('SpoolFullError'), rejected('ClosedError')]).passed).toBe(false);
  });
});
