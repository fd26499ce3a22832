/**
 * Counts what a consumer receives, for `spillway drill`: a consumer group of
 * its own runs beside the load, and at the end says which required ids
 * never reached its handler (lost) and how many reached it more than once
 * (duplicated), next to what the primary stream holds.
 */
import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import type { BusConfigInput } from '../config/schema.js';
import { createConsumer } from './create-consumer.js';

/** What the consumer's handler saw. */
export interface DeliveryCounts {
  /** Handler calls. */
  received: number;
  /** Distinct ids handled. */
  unique: number;
  /** Required ids the handler never saw. */
  lost: number;
  /** Handler calls beyond the first for an id. */
  duplicated: number;
  /** Copies dropped by the dedupe window (the secondary's copy of a drained record, for example). */
  droppedDuplicates: number;
  /** Some lost ids (at most 20), for the report. */
  lostIds: string[];
}

/** A running tally. */
export interface DeliveryTally {
  /** Wait until every id in `required` was handled, or `timeoutMs` passed. */
  settle(required: ReadonlySet<string>, timeoutMs: number): Promise<void>;
  /** Stop the consumer and count. */
  finish(required: ReadonlySet<string>): Promise<DeliveryCounts>;
}

/** Start a consumer (a fresh group, state under `stateDir`) that counts every record it is handed. */
export async function startDeliveryTally(config: BusConfigInput, options: { stateDir: string; logger?: Logger }): Promise<DeliveryTally> {
  const counts = new Map<string, number>();
  let received = 0;
  let dropped = 0;
  const consumer = await createConsumer(config, {
    group: `drill-${randomUUID().slice(0, 8)}`,
    checkpoints: { kind: 'disk', dir: options.stateDir },
    idlePollMs: 100,
    shardRefreshMs: 1_000,
    ...(options.logger ? { logger: options.logger } : {}),
  });
  consumer.events.on('consumer.duplicate', () => dropped++);
  const running = consumer.run((record) => {
    received++;
    counts.set(record.id, (counts.get(record.id) ?? 0) + 1);
  });
  return {
    async settle(required, timeoutMs) {
      const deadline = Date.now() + timeoutMs;
      while (Date.now() < deadline && [...required].some((id) => !counts.has(id))) await new Promise((r) => setTimeout(r, 50));
    },
    async finish(required) {
      await consumer.close();
      await running;
      const lostIds = [...required].filter((id) => !counts.has(id));
      let duplicated = 0;
      for (const n of counts.values()) duplicated += n - 1;
      return { received, unique: counts.size, lost: lostIds.length, duplicated, droppedDuplicates: dropped, lostIds: lostIds.slice(0, 20) };
    },
  };
}
