/**
 * Typed, namespaced events. Every state change a person would want to see in
 * a log or a dashboard is one of these.
 */
import { EventEmitter } from 'node:events';

/** Which tier a target sits in. */
export type TierName = 'primary' | 'secondary' | 'spool';

/** Event names and their payloads. */
export interface BusEventMap {
  /** A target's breaker opened: calls fail fast and go to the next tier. */
  'breaker.open': { target: string; tier: TierName };
  /** A target's breaker lets one trial call through. */
  'breaker.halfOpen': { target: string; tier: TierName };
  /** A target's breaker closed again: the target takes writes. */
  'breaker.close': { target: string; tier: TierName };
  /** Records that a tier could not take were handed to the next tier. */
  'bus.failover': { from: string; to: string; records: number; reason: string };
  /** A target kept throttling past the retry budget; records overflow to the next tier. */
  'bus.overflow': { target: string; records: number };
  /** Records larger than a tier's per-record limit skipped it for the next tier (never truncated). */
  'bus.oversize': { target: string; records: number; largestBytes: number; limitBytes: number };
  /**
   * A target refused the bus's identity (access denied, unknown or expired
   * credentials). Not an outage: its records went to the next tier and are
   * not retried there. `fix` says what to change.
   */
  'target.unauthorized': { target: string; tier: TierName; records: number; message: string; fix: string };
  /** A configuration that works but deserves attention (emitted just after start). */
  'config.warning': { field: string; message: string };
  /** A spool says it is less durable than it should be (e.g. Redis without persistence). */
  'spool.durability': { spool: string; message: string };
  /** A spool set damaged records aside on open; the rest are drained. */
  'spool.quarantined': { spool: string; file: string; offset: number; bytes: number; reason: string };
  /** Records were made durable in the spool. */
  'spool.append': { target: string; records: number };
  /** The reconciler started a drain. */
  'reconciler.start': { sources: string[] };
  /** A reconciler batch was written to the primary. */
  'reconciler.progress': { written: number; skippedDuplicates: number; coalesced: number };
  /** The reconciler finished a drain (or stopped early: `error` says why). */
  'reconciler.done': ReconcileSummary;
}

/** What one reconciler run did. */
export interface ReconcileSummary {
  written: number;
  skippedDuplicates: number;
  coalesced: number;
  /** Records the primary rejected as invalid; the run stops and keeps them (they are not deleted). */
  rejected: number;
  /** Ids of a batch an earlier, interrupted drain left unconfirmed, found already in the primary. */
  settled: number;
  /** Records on a secondary that are not spillway envelopes: skipped, never replayed. */
  foreign: number;
  durationMs: number;
  /** Sources that could not be read this run (retried next run). */
  unavailable: string[];
  /** Set when the run stopped before draining everything. */
  error?: string;
}

/** A typed EventEmitter over {@link BusEventMap}. */
export class BusEvents {
  readonly #emitter = new EventEmitter();

  on<K extends keyof BusEventMap>(name: K, listener: (payload: BusEventMap[K]) => void): this {
    this.#emitter.on(name, listener);
    return this;
  }

  once<K extends keyof BusEventMap>(name: K, listener: (payload: BusEventMap[K]) => void): this {
    this.#emitter.once(name, listener);
    return this;
  }

  off<K extends keyof BusEventMap>(name: K, listener: (payload: BusEventMap[K]) => void): this {
    this.#emitter.off(name, listener);
    return this;
  }

  emit<K extends keyof BusEventMap>(name: K, payload: BusEventMap[K]): void {
    this.#emitter.emit(name, payload);
  }
}
