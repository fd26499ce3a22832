/** Builds a bus from memory parts for fast unit tests of routing and reconciling. */
import { pino } from 'pino';
import { createMemoryDedupeStore, createMemorySpool } from '../../adapters/memory/index.js';
import { assembleBus, type Bus, type BusParts } from '../../src/bus/bus.js';
import type { DrainSource, SourceChunk } from '../../src/contracts/index.js';
import type { Envelope } from '../../src/envelope/index.js';
import { MemoryTarget } from './memory-target.js';

export const silentLogger = pino({ level: 'silent' });

export interface MemoryBus {
  bus: Bus;
  primary: MemoryTarget;
  secondary: MemoryTarget;
  spool: ReturnType<typeof createMemorySpool>;
}

/** A bus over memory targets; the secondary is drained from what it stored. */
export function memoryBus(overrides: Partial<BusParts> = {}): MemoryBus {
  const primary = new MemoryTarget('mem:primary');
  const secondary = new MemoryTarget('mem:secondary');
  const spool = createMemorySpool();
  const bus = assembleBus({
    primary,
    secondaries: [secondary],
    spool,
    dedupe: createMemoryDedupeStore(),
    secondarySources: async () => [storedSource(secondary)],
    logger: silentLogger,
    breaker: { volumeThreshold: 2, resetTimeoutMs: 60_000 },
    delivery: { backoff: { baseMs: 1, capMs: 5 } },
    reconciler: { enabled: false, maxRecordsPerSecond: 1e6, maxBytesPerSecond: 1e12, uncertainSettleMs: 0 },
    // One lane: these tests count calls and compare whole-stream order (lanes have their own tests).
    batching: { lanes: 1 },
    ...overrides,
  });
  return { bus, primary, secondary, spool };
}

/** Drains what a MemoryTarget stored, like a secondary stream read from a checkpoint. */
export function storedSource(target: MemoryTarget): DrainSource {
  let committed = 0;
  let read = 0;
  return {
    id: `${target.id}/drain`,
    async next(max) {
      if (read >= target.stored.length) return undefined;
      const envelopes: Envelope[] = target.stored.slice(read, read + max);
      read += envelopes.length;
      const end = read;
      const chunk: SourceChunk = { envelopes, commit: async () => void (committed = end) };
      return chunk;
    },
    async survey(visit) {
      for (const e of target.stored.slice(committed)) visit(e);
    },
    async abandon() {
      read = committed;
    },
  };
}

/** Resolves when the bus's primary breaker is (or becomes) closed. */
export async function primaryClosed(bus: Bus): Promise<void> {
  if ((await bus.stats()).breakers[0]?.state === 'closed') return;
  await new Promise<void>((resolve) => {
    const onClose = ({ tier }: { tier: string }) => {
      if (tier !== 'primary') return;
      bus.events.off('breaker.close', onClose);
      resolve();
    };
    bus.events.on('breaker.close', onClose);
  });
}
