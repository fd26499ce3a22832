/**
 * A steady producer for drills: sends at a fixed rate without waiting for
 * each send (as a real service would), and remembers every outcome.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { Bus } from '../bus/bus.js';
import type { RecordInput } from '../envelope/index.js';
import type { TierName } from '../events/bus-events.js';

/** One send as the drill saw it. */
export interface SentRecord {
  phase: string;
  kind: 'delta' | 'snapshot';
  coalesceKey?: string;
  id?: string;
  landedOn?: TierName;
  error?: string;
  /** Milliseconds from `send()` to its settling. */
  latencyMs?: number;
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
}

/** Sends records for one phase at least; `stop()` waits for every outcome. */
export class SteadyLoad {
  readonly sent: SentRecord[] = [];
  readonly #bus: Bus;
  readonly #options: LoadOptions;
  readonly #inflight = new Set<Promise<void>>();
  #seq = 0;

  constructor(bus: Bus, options: LoadOptions) {
    this.#bus = bus;
    this.#options = options;
  }

  /** Send at the configured rate for `ms`, labelling records with `phase`. */
  async run(phase: string, ms: number): Promise<void> {
    const tickMs = 20;
    const started = performance.now();
    let due = 0;
    while (performance.now() - started < ms) {
      due += (this.#options.rate * tickMs) / 1000;
      while (due >= 1) {
        this.#sendOne(phase);
        due--;
      }
      await sleep(tickMs);
    }
  }

  /** Wait for every send to settle. */
  async settle(): Promise<void> {
    while (this.#inflight.size > 0) await Promise.all(this.#inflight);
  }

  #sendOne(phase: string): void {
    const n = this.#seq++;
    const snapshot = this.#options.snapshotEvery > 0 && n % this.#options.snapshotEvery === 0;
    const coalesceKey = snapshot ? `account-${n % this.#options.snapshotKeys}` : undefined;
    const record: SentRecord = { phase, kind: snapshot ? 'snapshot' : 'delta', ...(coalesceKey ? { coalesceKey } : {}) };
    this.sent.push(record);
    const input: RecordInput = {
      partitionKey: `customer-${n % this.#options.partitionKeys}`,
      data: { seq: n, phase, amount: n % 97 },
      ...(snapshot ? { kind: 'snapshot' as const, coalesceKey } : {}),
    };
    const t0 = performance.now();
    const p = this.#bus.send(input).then(
      (r) => {
        record.id = r.id;
        record.landedOn = r.landedOn.tier;
      },
      (error: unknown) => {
        record.error = error instanceof Error ? error.message : String(error);
      },
    ).finally(() => {
      record.latencyMs = performance.now() - t0;
      this.#inflight.delete(p);
    });
    this.#inflight.add(p);
  }
}
