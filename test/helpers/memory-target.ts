/**
 * A scriptable in-memory Target for unit tests of the router and reconciler.
 * Not a stand-in for Kinesis behaviour: integration tests use real emulators.
 */
import type { PutResult, Target } from '../../src/contracts/index.js';
import type { Envelope } from '../../src/envelope/index.js';
import type { SpillwayError } from '../../src/errors/index.js';

/** What one put does: accept all, throw, or fail some records. */
export type PutScript = (batch: readonly Envelope[], call: number) => 'ok' | SpillwayError | Map<string, SpillwayError>;

export class MemoryTarget implements Target {
  readonly id: string;
  readonly maxBatchRecords: number;
  readonly maxBatchBytes = 5 * 1_048_576;
  readonly stored: Envelope[] = [];
  calls = 0;
  probes = 0;
  script: PutScript = () => 'ok';
  probeError: SpillwayError | undefined;

  constructor(id: string, maxBatchRecords = 500) {
    this.id = id;
    this.maxBatchRecords = maxBatchRecords;
  }

  async put(batch: readonly Envelope[]): Promise<PutResult> {
    const outcome = this.script(batch, this.calls++);
    if (outcome === 'ok') {
      this.stored.push(...batch);
      return { failed: [] };
    }
    if (outcome instanceof Map) {
      this.stored.push(...batch.filter((e) => !outcome.has(e.id)));
      return { failed: batch.filter((e) => outcome.has(e.id)).map((envelope) => ({ envelope, error: outcome.get(envelope.id) as SpillwayError })) };
    }
    throw outcome;
  }

  /** Every put and probe fails with `error` until `up()`. */
  down(error: SpillwayError): void {
    this.script = () => error;
    this.probeError = error;
  }

  /** Accept everything again. */
  up(): void {
    this.script = () => 'ok';
    this.probeError = undefined;
  }

  async probe(): Promise<void> {
    this.probes++;
    if (this.probeError) throw this.probeError;
  }

  async close(): Promise<void> {}

  ids(): string[] {
    return this.stored.map((e) => e.id);
  }
}
