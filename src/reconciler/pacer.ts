/**
 * Paces the reconciler so a service that has just recovered is not flooded:
 * a token bucket on records and bytes per second, halved when the primary
 * throttles and grown back slowly while it does not (AIMD).
 */
import { wait } from '../failover/backoff.js';

/** Pacing limits; all have defaults. */
export interface PacerOptions {
  /** Ceiling on records per second (default 1000, one Kinesis shard's write limit). */
  maxRecordsPerSecond?: number;
  /** Ceiling on bytes per second (default 1 MiB, one shard's write limit). */
  maxBytesPerSecond?: number;
  /** Floor the rate never drops below, as a fraction of the ceiling (default 0.05). */
  minFraction?: number;
  /** Milliseconds since some fixed point; injected for tests. */
  now?: () => number;
}

/** Token bucket with additive increase and multiplicative decrease. */
export class Pacer {
  readonly #maxRecords: number;
  readonly #maxBytes: number;
  readonly #minFraction: number;
  readonly #now: () => number;
  #fraction = 1;
  #recordTokens: number;
  #byteTokens: number;
  #last: number;

  constructor(options: PacerOptions = {}) {
    this.#maxRecords = options.maxRecordsPerSecond ?? 1_000;
    this.#maxBytes = options.maxBytesPerSecond ?? 1_048_576;
    this.#minFraction = options.minFraction ?? 0.05;
    this.#now = options.now ?? (() => performance.now());
    this.#recordTokens = this.#maxRecords;
    this.#byteTokens = this.#maxBytes;
    this.#last = this.#now();
  }

  /** Current records-per-second rate. */
  get recordsPerSecond(): number {
    return this.#maxRecords * this.#fraction;
  }

  /** Wait until `records` records of `bytes` bytes may be sent, then spend the tokens. */
  async take(records: number, bytes: number, signal?: AbortSignal): Promise<void> {
    this.#refill();
    const recordRate = this.#maxRecords * this.#fraction;
    const byteRate = this.#maxBytes * this.#fraction;
    const needRecords = Math.min(records, this.#maxRecords) - this.#recordTokens;
    const needBytes = Math.min(bytes, this.#maxBytes) - this.#byteTokens;
    const waitMs = Math.max(0, (needRecords / recordRate) * 1000, (needBytes / byteRate) * 1000);
    if (waitMs > 0) {
      await wait(Math.ceil(waitMs), signal);
      this.#refill();
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

  #refill(): void {
    const now = this.#now();
    const seconds = (now - this.#last) / 1000;
    this.#last = now;
    this.#recordTokens = Math.min(this.#maxRecords * this.#fraction, this.#recordTokens + seconds * this.#maxRecords * this.#fraction);
    this.#byteTokens = Math.min(this.#maxBytes * this.#fraction, this.#byteTokens + seconds * this.#maxBytes * this.#fraction);
  }
}
