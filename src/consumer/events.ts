/**
 * The consumer's typed events. Metrics: `consumer.lag` → a gauge per
 * (source, shard); `consumer.deadLetter`, `consumer.retry`,
 * `consumer.duplicate` → counters.
 */
import { EventEmitter } from 'node:events';

/** Event names and payloads. */
export interface ConsumerEventMap {
  /** How far a shard's reader is behind the tip of the shard. */
  'consumer.lag': { source: string; shardId: string; millisBehind: number };
  /** A record was dropped because its id was already handled. */
  'consumer.duplicate': { source: string; shardId: string; id: string };
  /** A handler threw; the record will be tried again after `delayMs`. */
  'consumer.retry': { id: string; attempt: number; delayMs: number; error: string };
  /** A record's handler kept failing; it was written to the dead-letter destination. */
  'consumer.deadLetter': { id: string; source: string; shardId: string; sequenceNumber: string; attempts: number; error: string };
  /** A shard's checkpoint moved. */
  'consumer.checkpoint': { source: string; shardId: string; sequenceNumber: string };
  /** This worker started reading a shard. */
  'consumer.shardStart': { source: string; shardId: string; token?: number };
  /** This worker stopped reading a shard (`ended`: closed and read to its end). */
  'consumer.shardStop': { source: string; shardId: string; reason: 'ended' | 'leaseLost' | 'rebalance' | 'closing' };
  /** A read or store call failed; it is retried. */
  'consumer.error': { source: string; shardId?: string; error: string };
}

/** A typed EventEmitter over {@link ConsumerEventMap}. */
export class ConsumerEvents {
  readonly #emitter = new EventEmitter();

  on<K extends keyof ConsumerEventMap>(name: K, listener: (payload: ConsumerEventMap[K]) => void): this {
    this.#emitter.on(name, listener);
    return this;
  }

  off<K extends keyof ConsumerEventMap>(name: K, listener: (payload: ConsumerEventMap[K]) => void): this {
    this.#emitter.off(name, listener);
    return this;
  }

  emit<K extends keyof ConsumerEventMap>(name: K, payload: ConsumerEventMap[K]): void {
    this.#emitter.emit(name, payload);
  }
}
