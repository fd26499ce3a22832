/**
 * Paces the reconciler so a service that has just recovered is not flooded:
 * a token bucket on records and bytes per second, halved when the primary
 * throttles and grown back slowly while it does not (AIMD). A batch larger
 * than the bucket may go at once; the debt it leaves is waited out before
 * the next one, so the average rate holds.
 */
import { wait } from '../failover/backoff.js';

/** Pacing limits; all have defaults. */
export interface PacerOptions {
  /** Ceiling on records per second (default 1000, one Kinesis shard's write limit). */
  maxRecordsPerSecond?: number;
  /** Ceiling on bytes per second (default 1 MiB, one shard's write limit). */
  maxBytesPerSecond?: number;
  /** Burst allowance, in seconds of the current rate (default 0.1). */
  burstSeconds?: number;
  /** Floor the rate never drops below, as a fraction of the ceiling (default 0.05). */
  minFraction?: number;
  /** Milliseconds since some fixed point; injected for tests. */
  now?: () => number;
  /** How to wait; injected for tests. */
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
}

/** Token bucket with additive increase and multiplicative decrease. */
export class Pacer {
  readonly #maxRecords: number;
  readonly #maxBytes: number;
  readonly #burst: number;
  readonly #minFraction: number;
  readonly #now: () => number;
  readonly #sleep: (ms: number, signal?: AbortSignal) => Promise<void>;
  #fraction = 1;
  #recordTokens: number;
  #byteTokens: number;
  #last: number;

  constructor(options: PacerOptions = {}) {
    this.#maxRecords = options.maxRecordsPerSecond ?? 1_000;
    this.#maxBytes = options.maxBytesPerSecond ?? 1_048_576;
    this.#burst = options.burstSeconds ?? 0.1;
    this.#minFraction = options.minFraction ?? 0.05;
    this.#now = options.now ?? (() => performance.now());
    this.#sleep = options.sleep ?? wait;
    this.#recordTokens = this.#maxRecords * this.#burst;
    this.#byteTokens = this.#maxBytes * this.#burst;
    this.#last = this.#now();
  }

  /** Current records-per-second rate. */
  get recordsPerSecond(): number {
    return this.#maxRecords * this.#fraction;
  }

  /** Wait until the bucket holds `records` and `bytes` (see the module comment), then spend them. */
  async take(records: number, bytes: number, signal?: AbortSignal): Promise<void> {
    this.#refill();
    const waitMs = Math.max(0, ((records - this.#recordTokens) / this.#recordRate()) * 1000, ((bytes - this.#byteTokens) / this.#byteRate()) * 1000);
    if (waitMs > 0) {
      await this.#sleep(Math.ceil(waitMs), signal);
      // What accrued while waiting for this batch counts in full, not only up to the idle burst.
      this.#refill(records, bytes);
    }
    this.#recordTokens -= records;
    this.#byteTokens -= bytes;
  }

  /** The primary throttled: halve the rate. */
  slowDown(): void {
    this.#fraction = Math.max(this.#minFraction, this.#fraction / 2);
  }

  /** A batch went through unthrottled: grow the rate by a tenth of the ceiling. */
  speedUp(): void {
    this.#fraction = Math.min(1, this.#fraction + 0.1);
  }

  #recordRate(): number {
    return this.#maxRecords * this.#fraction;
  }

  #byteRate(): number {
    return this.#maxBytes * this.#fraction;
  }

  /** Add what accrued since the last refill, up to the burst (or up to what a waiting batch needs). */
  #refill(needRecords = 0, needBytes = 0): void {
    const now = this.#now();
    const seconds = (now - this.#last) / 1000;
    this.#last = now;
    this.#recordTokens = Math.min(Math.max(this.#recordRate() * this.#burst, needRecords), this.#recordTokens + seconds * this.#recordRate());
    this.#byteTokens = Math.min(Math.max(this.#byteRate() * this.#burst, needBytes), this.#byteTokens + seconds * this.#byteRate());
  }
}
