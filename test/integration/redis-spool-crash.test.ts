/**
 * Real crashes: a private redis-server with `appendonly yes` and
 * `appendfsync always` is SIGKILLed in the middle of a load of concurrent
 * appends, restarted from its own directory, and every record whose append
 * resolved must be there. SPILLWAY_SOAK=1 runs more rounds and more records.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { createRedisSpool, type RedisSpool } from '../../adapters/redis/index.js';
import { isSpillwayError } from '../../src/errors/index.js';
import { waitFor } from '../helpers/emulators.js';
import { startRedisServer, type RedisServer } from '../helpers/redis-server.js';
import { makeEnvelopes } from '../helpers/spool-fixtures.js';

const SOAK = process.env.SPILLWAY_SOAK === '1';
const ROUNDS = SOAK ? 10 : 2;
const KILL_AFTER = SOAK ? 2_000 : 300;
const WORKERS = 8;

const cleanups: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  for (const fn of cleanups.splice(0).reverse()) await fn();
});

interface Load {
  resolved: Set<string>;
  failed: number;
  stop(): Promise<void>;
}

/** WORKERS concurrent loops of 3-record appends, each with fresh ids, until stopped. */
function startLoad(spool: RedisSpool, round: number): Load {
  const load = { resolved: new Set<string>(), failed: 0 };
  let running = true;
  let next = 0;
  const worker = async (w: number): Promise<void> => {
    while (running) {
      const batch = makeEnvelopes((next += 3), 3, `r${round}w${w}`);
      try {
        await spool.append(batch);
        for (const e of batch) load.resolved.add(e.id);
      } catch (error) {
        if (!isSpillwayError(error)) throw error;
        load.failed += 1;
      }
      await new Promise((r) => setImmediate(r)); // a down spool fails at once: yield to timers and I/O instead of spinning

    }
  };
  const workers = Array.from({ length: WORKERS }, (_, w) => worker(w));
  return {
    ...load,
    get resolved() {
      return load.resolved;
    },
    get failed() {
      return load.failed;
    },
    async stop() {
      running = false;
      await Promise.all(workers);
    },
  };
}

async function drainIds(spool: RedisSpool): Promise<Set<string>> {
  const out = new Set<string>();
  for (let lease = await spool.lease(500); lease.envelopes.length > 0; lease = await spool.lease(500)) {
    for (const e of lease.envelopes) out.add(e.id);
    await spool.ack(lease);
  }
  return out;
}

describe('Redis spool: the server is SIGKILLed mid-load', () => {
  it(`keeps every record whose append resolved (appendfsync always, ${ROUNDS} crashes)`, async () => {
    const server: RedisServer = await startRedisServer({ appendfsync: 'always' });
    cleanups.push(() => server.cleanup());
    const spool = await createRedisSpool({ url: server.url, keyPrefix: 'crash', durability: 'aof', commandTimeoutMs: 1_000, connectTimeoutMs: 500, maxReconnectDelayMs: 100 });
    cleanups.push(() => spool.close());
    expect(spool.durability).toMatchObject({ level: 'aof', confirm: 'none' });
    const everResolved = new Set<string>();
    for (let round = 0; round < ROUNDS; round += 1) {
      const load = startLoad(spool, round);
      await waitFor(() => load.resolved.size >= KILL_AFTER, { timeoutMs: 20_000, message: `${KILL_AFTER} resolved appends` });
      await server.kill();
      await waitFor(() => load.failed > 0, { timeoutMs: 10_000, message: 'appends to fail once the server is dead' });
      await load.stop();
      for (const id of load.resolved) everResolved.add(id);
      await server.start();
      await waitFor(() => spool.stats().then(() => true), { timeoutMs: 10_000, message: 'the spool to reconnect' });
    }
    const out = await drainIds(spool);
    const missing = [...everResolved].filter((id) => !out.has(id));
    expect(everResolved.size).toBeGreaterThanOrEqual(ROUNDS * KILL_AFTER);
    expect(missing).toEqual([]);
  });
});
