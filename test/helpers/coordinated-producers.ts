/**
 * Producers sharing one primary and one secondary stream (two kinesalite
 * regions behind fault proxies), each with its own spool dir and instance id,
 * optionally coordinated through Redis; and the Redis keys they leave.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import type { Bus } from '../../src/bus/bus.js';
import { createBus } from '../../src/bus/create-bus.js';
import type { BusConfigInput } from '../../src/config/schema.js';
import { FAKE_CREDENTIALS } from '../../src/drill/kinesis-admin.js';
import { silentLogger } from './bus-parts.js';
import type { TwoRegions } from './two-regions.js';

/** The Redis every coordination test uses (it keeps nothing on disk). */
export const REDIS_URL = 'redis://127.0.0.1:6379';

/** What the producers share besides the streams. */
export interface SharedState {
  /** Key prefix of the drain leases and their checkpoints (coordination); none: uncoordinated. */
  coordinationPrefix?: string;
  /** Key prefix of a Redis dedupe window; none: each producer's disk journal. */
  dedupePrefix?: string;
  leaseMs?: number;
}

/** The configuration of one producer; `dir` is its spool (and state) dir. */
export function producerConfig(regions: Pick<TwoRegions, 'east' | 'west'>, stream: string, dir: string, shared: SharedState, reconciler: Record<string, unknown> = {}): BusConfigInput {
  return {
    primary: { kind: 'kinesis', region: regions.east.name, stream, endpoint: regions.east.proxy.url, credentials: FAKE_CREDENTIALS, requestTimeoutMs: 1_000 },
    secondaries: [{ kind: 'kinesis', region: regions.west.name, stream, endpoint: regions.west.proxy.url, credentials: FAKE_CREDENTIALS, requestTimeoutMs: 1_000 }],
    spool: { kind: 'disk', dir },
    breaker: { resetTimeoutMs: 300, volumeThreshold: 2 },
    reconciler: { enabled: false, maxRecordsPerSecond: 100_000, maxBytesPerSecond: 1e9, uncertainSettleMs: 0, ...reconciler },
    ...(shared.coordinationPrefix ? { coordination: { kind: 'redis', url: REDIS_URL, keyPrefix: shared.coordinationPrefix, ...(shared.leaseMs ? { leaseMs: shared.leaseMs } : {}) } } : {}),
    ...(shared.dedupePrefix ? { dedupe: { kind: 'redis', url: REDIS_URL, keyPrefix: shared.dedupePrefix } } : {}),
  } as BusConfigInput;
}

/** A fresh spool dir; `cleanup` gets its removal. */
export async function producerDir(cleanup: Array<() => Promise<unknown>>, label = 'producer'): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), `spillway-${label}-`));
  cleanup.push(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

/** `count` producers over one stream pair; `cleanup` gets their close and dir removal. */
export async function startProducers(regions: Pick<TwoRegions, 'east' | 'west'>, count: number, stream: string, shared: SharedState, cleanup: Array<() => Promise<unknown>>): Promise<Bus[]> {
  const buses: Bus[] = [];
  for (let i = 0; i < count; i++) {
    const bus = await createBus(producerConfig(regions, stream, await producerDir(cleanup, `producer-${i}`), shared), { logger: silentLogger });
    cleanup.push(() => bus.close());
    buses.push(bus);
  }
  return buses;
}

/** Delete every key under each prefix (SCAN, never KEYS), then disconnect. */
export async function deleteRedisKeys(prefixes: readonly string[]): Promise<void> {
  const redis = new Redis(REDIS_URL);
  try {
    for (const prefix of prefixes) {
      let cursor = '0';
      do {
        const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
        cursor = next;
        if (keys.length > 0) await redis.del(...keys);
      } while (cursor !== '0');
    }
  } finally {
    redis.disconnect();
  }
}

/** How many keys there are under `prefix` (SCAN). */
export async function countRedisKeys(prefix: string): Promise<number> {
  const redis = new Redis(REDIS_URL);
  try {
    let n = 0;
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
      cursor = next;
      n += keys.length;
    } while (cursor !== '0');
    return n;
  } finally {
    redis.disconnect();
  }
}
