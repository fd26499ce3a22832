/**
 * Two producers in one scenario: two buses in this process, each with its own spool directory (and so its
 * own state directory and instance id), sending to the same primary and secondary streams. Their keys and
 * sequence numbers are kept apart so the per-key order check judges each producer's own sends.
 */
import { join } from 'node:path';
import type { Logger } from 'pino';
import type { LongFormConfigInput } from '../config/schema.js';
import type { Observations } from './observe.js';
import { createInProcessProducer, type Producer } from './producer.js';

/** Options for {@link createProducerPair}. */
export interface ProducerPairOptions {
  /** The scenario's configuration; each producer gets it with its own spool directory. */
  config: LongFormConfigInput;
  /** Records per second, split between the two. */
  rate: number;
  workDir: string;
  logger: Logger;
  observations: Observations;
}

/** Sequence numbers of the second producer start here, far above anything the first one sends. */
const SECOND_FIRST_SEQ = 1_000_000;

/** Creates two in-process producers that act as one {@link Producer}. */
export function createProducerPair(options: ProducerPairOptions): Producer {
  const producers = ['a', 'b'].map((name, i) =>
    createInProcessProducer({
      config: { ...options.config, spool: { kind: 'disk', dir: join(options.workDir, `spool-${name}`) } },
      rate: options.rate / 2,
      logger: options.logger,
      observations: options.observations,
      load: { keyPrefix: `producer-${name}:`, firstSeq: i * SECOND_FIRST_SEQ },
    }),
  );
  const all = async (f: (p: Producer) => Promise<void>): Promise<void> => {
    await Promise.all(producers.map(f));
  };
  return {
    sent: () => producers.flatMap((p) => p.sent()),
    setPhase: (name) => producers.forEach((p) => p.setPhase(name)),
    start: () => all((p) => p.start()),
    stopSending: () => all((p) => p.stopSending()),
    awaitDrained: (timeoutMs, signal) => all((p) => p.awaitDrained(timeoutMs, signal)),
    close: async () => {
      await Promise.allSettled(producers.map((p) => p.close()));
    },
  };
}
