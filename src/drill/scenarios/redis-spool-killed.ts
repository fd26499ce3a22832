import { randomUUID } from 'node:crypto';
import type { LongFormConfigInput } from '../../config/schema.js';
import { ConfigError } from '../../errors/index.js';
import { startDrillRedisServer } from '../redis-server.js';
import { REFUSE, type Scenario, type ScenarioFixture, type SetupContext } from '../scenario.js';
import { fixtureAction } from './queue-timeline.js';

/** A private redis-server first in the spool chain, the drill's disk spool after it. */
async function redisThenDisk(context: SetupContext): Promise<ScenarioFixture> {
  const spools = Array.isArray(context.config.spool) ? context.config.spool : [context.config.spool];
  const disk = spools.find((s) => s.kind === 'disk');
  if (!disk) throw new ConfigError('spool: the Redis spool scenario needs a disk spool to fall back to; add one', { field: 'spool' });
  const redis = await startDrillRedisServer();
  const spool = [{ kind: 'redis', url: redis.url, keyPrefix: `drill-${randomUUID().slice(0, 8)}` }, disk] as LongFormConfigInput['spool'];
  return { config: { ...context.config, spool }, actions: { kill: () => redis.kill(), restart: () => redis.start() }, close: () => redis.close() };
}

/** The Redis spool dies (SIGKILL) mid-outage: records fall to the disk spool; after a restart both drain. */
export const redisSpoolKilled: Scenario = {
  name: 'redis-spool-killed',
  description: 'Both regions go down with a Redis spool in front of the disk spool; redis-server is SIGKILLed, records fall to disk, Redis restarts, then everything drains.',
  note:
    'redis-server runs with appendfsync always, so what it acknowledged survives the SIGKILL; it is restarted on the same port and directory while the regions are still down, then the reconciler drains both spools. ' +
    "Redis comes back before the regions: when the primary returned first, the disk spool's newer records reached the primary before Redis' older ones of the same key (per-key order broken), which this build does not prevent.",
  needs: ['redis'],
  setup: redisThenDisk,
  phases: [
    { name: 'steady', length: 1 },
    { name: 'both-down', length: 1, primary: REFUSE, secondary: REFUSE },
    { name: 'redis-killed', length: 1, primary: REFUSE, secondary: REFUSE, onStart: fixtureAction('kill', 'redis-server SIGKILLed; records fall to the disk spool') },
    { name: 'redis-back', length: 1, primary: REFUSE, secondary: REFUSE, onStart: fixtureAction('restart', 'redis-server restarted on the same directory') },
    { name: 'recovered', length: 1.5 },
  ],
  expect: { failover: 'expected' },
  checks: (run) => {
    const onDisk = run.producer.sent().filter((s) => s.phase === 'redis-killed' && s.landedOn === 'spool').length;
    return [{ name: 'acknowledged by a spool while Redis was dead', value: onDisk, expected: '> 0', passed: onDisk > 0 }];
  },
};
