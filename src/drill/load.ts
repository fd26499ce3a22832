/**
 * A steady producer for drills: sends at a fixed rate without waiting for each send (as a real service would),
 * labels every record with the current phase, and remembers every outcome. Used in process and by the drill's
 * child producer alike.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { RecordInput } from '../envelope/index.js';
import type { TierName } from '../events/bus-events.js';

/** One send as the drill saw it. Times are epoch milliseconds. */
export interface SentRecord {
  /** Send order across the whole scenario (restarted producers continue the count). */
  seq: number;
  phase: string;
  kind: 'delta' | 'snapshot';
  partitionKey: string;
  coalesceKey?: string;
  id?: string;
  landedOn?: TierName;
  error?: string;
  /** The class of the error that decided the rejection: the spool's own error when every tier failed. */
  errorKind?: string;
  sentAt: number;
  /** When `send()` settled. */
  settledAt?: number;
}

/** Load shape. */
export interface LoadOptions {
  /** Records per second. */
  rate: number;
  /** One record in `snapshotEvery` is a snapshot (0: none). */
  snapshotEvery: number;
  /** Distinct snapshot coalesce keys. */
  snapshotKeys: number;
  /** Distinct partition keys. */
  partitionKeys: number;
  /** The first sequence number (a restarted producer continues where the killed one stopped). */
  firstSeq?: number;
  /** Prefix of partition and coalesce keys, so that several producers in one scenario keep their keys apart. */
  keyPrefix?: string;
}

/** What the load calls to send one record. */
export type SendFn = (input: RecordInput) => Promise<{ id: string; landedOn: { tier: TierName } }>;

/** Default shape: one record in ten a snapshot over 20 keys, 64 partition keys. */
export const DEFAULT_LOAD: Omit<LoadOptions, 'rate'> = { snapshotEvery: 10, snapshotKeys: 20, partitionKeys: 64 };

/** Sends continuously from `start()` until `stop()`, which waits for every outcome. */
export class SteadyLoad {
  readonly sent: SentRecord[] = [];
  /** The label given to records sent from now on. */
  phase = 'steady';
  /** Called once per settled send (acknowledged or not). */
  onSettled: (record: SentRecord) => void = () => undefined;
  readonly #send: SendFn;
  readonly #options: LoadOptions;
  readonly #inflight = new Set<Promise<void>>();
  #seq: number;
  #running: Promise<void> | undefined;
  #stopping = false;

  constructor(send: SendFn, options: LoadOptions) {
    this.#send = send;
    this.#options = options;
    this.#seq = options.firstSeq ?? 0;
  }

  /** Start sending in the background. */
  start(): void {
    this.#running ??= this.#loop();
  }

  /** Stop sending and wait for every send to settle. */
  async stop(): Promise<void> {
    this.#stopping = true;
    await this.#running;
    while (this.#inflight.size > 0) await Promise.all(this.#inflight);
  }

  async #loop(): Promise<void> {
    const tickMs = 20;
    const started = performance.now();
    let sentSoFar = 0;
    while (!this.#stopping) {
      const due = Math.floor(((performance.now() - started) * this.#options.rate) / 1000);
      for (; sentSoFar < due && !this.#stopping; sentSoFar++) this.#sendOne();
      await sleep(tickMs);
    }
  }

  #sendOne(): void {
    const n = this.#seq++;
    const o = this.#options;
    const snapshot = o.snapshotEvery > 0 && n % o.snapshotEvery === 0;
    const prefix = o.keyPrefix ?? '';
    const coalesceKey = snapshot ? `${prefix}account-${n % o.snapshotKeys}` : undefined;
    const partitionKey = `${prefix}customer-${n % o.partitionKeys}`;
    const record: SentRecord = { seq: n, phase: this.phase, kind: snapshot ? 'snapshot' : 'delta', partitionKey, sentAt: Date.now(),
      ...(coalesceKey ? { coalesceKey } : {}) };
    this.sent.push(record);
    const input: RecordInput = { partitionKey, data: { seq: n, phase: this.phase }, ...(snapshot ? { kind: 'snapshot' as const, coalesceKey } : {}) };
    const p = this.#send(input)
      .then(
        (r) => {
          record.id = r.id;
          record.landedOn = r.landedOn.tier;
        },
        (error: unknown) => {
          record.error = error instanceof Error ? error.message : String(error);
          record.errorKind = errorKind(error);
        },
      )
      .finally(() => {
        record.settledAt = Date.now();
        this.#inflight.delete(p);
        this.onSettled(record);
      });
    this.#inflight.add(p);
  }
}

/** The name of the error that decided a rejection: the last tier's (the spool's) when every tier failed. */
export function errorKind(error: unknown): string {
  const failures = (error as { failures?: ReadonlyArray<{ error: unknown }> } | null)?.failures;
  const decisive = Array.isArray(failures) && failures.length > 0 ? failures[failures.length - 1]?.error : error;
  return decisive instanceof Error ? decisive.name || decisive.constructor.name : typeof decisive;
}
