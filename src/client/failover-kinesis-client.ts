/**
 * A drop-in replacement for the AWS SDK v3 `KinesisClient`: the same
 * constructor (plus one field, `failover`), the same `send`, the same output
 * shapes. `PutRecords` and `PutRecord` go through spillway's failover router;
 * every other command goes to the primary region unchanged.
 *
 * Invariants
 * - A record reported successful is durably held by some tier: the primary
 *   (its own ShardId and SequenceNumber), or another tier, marked
 *   `ShardId: 'spillway:<tier>:<target>'`, `SequenceNumber: 'spillway:<id>'`.
 * - A record no tier took is reported with `ErrorCode`/`ErrorMessage` in its
 *   slot; the rest of the batch keeps its own outcome.
 * - A malformed command (no records, an empty partition key, a record over
 *   the limit, more than 500 records or 10 MiB in one call) throws a
 *   ValidationError before any record of it is sent. An `abortSignal`
 *   already aborted rejects (AbortError) before anything is sent; one
 *   aborted later rejects the call, but what was sent may still land.
 * - Commands are recognised duck-typed (command-kind.ts), so an app's own
 *   copy of the SDK fails over too.
 * - One bus per stream named by the commands, opened on the first write to
 *   that stream; `close()` (or `destroy()`) releases every one.
 */
import { KinesisClient, type KinesisClientConfig, type PutRecordInput, type PutRecordsInput } from '@aws-sdk/client-kinesis';
import { createKinesisTier, type KinesisTierConfig } from '../../adapters/kinesis/index.js';
import type { Bus, BusStats } from '../bus/bus.js';
import type { ReconcileSummary } from '../events/bus-events.js';
import { createBus } from '../bus/create-bus.js';
import type { BusConfigInput } from '../config/schema.js';
import { ClosedError, isSpillwayError, ValidationError } from '../errors/index.js';
import type { LoggerLike } from '../logging/logger-like.js';
import { asPutCommand } from './command-kind.js';
import { abortable, type AbortSignalLike, asStreamNotFound } from './sdk-errors.js';
import { inputOfPutRecord, inputsOfPutRecords, putRecordOutput, putRecordsOutput, streamOf } from './sdk-shapes.js';
import { configForStream, type FailoverOptions } from './stream-config.js';

export type { FailoverOptions } from './stream-config.js';

/** What `new FailoverKinesisClient(...)` takes: the SDK's config plus `failover`. */
export interface FailoverKinesisClientConfig extends KinesisClientConfig {
  /** The rest of a bus configuration (secondaries, spool, reconciler, ...); see docs/drop-in-client.md. */
  failover: FailoverOptions;
}

type SendCallback = (err: unknown, data?: unknown) => void;

/** See the module comment. */
export class FailoverKinesisClient extends KinesisClient {
  readonly #failover: FailoverOptions;
  readonly #logger: LoggerLike | undefined;
  readonly #buses = new Map<string, Promise<Bus>>();
  /** Sends through the SDK's own `send`, bypassing the failover path (for the primary target's own requests). */
  readonly #direct: KinesisClient;
  #closing: Promise<void> | undefined;

  constructor(config: FailoverKinesisClientConfig) {
    const { failover, ...sdkConfig } = config;
    super(sdkConfig);
    if (typeof failover !== 'object' || failover === null) {
      throw new ValidationError('FailoverKinesisClient needs a `failover` field: { secondaries, spool, ... } (see docs/drop-in-client.md)');
    }
    this.#failover = failover;
    this.#logger = failover.logger;
    const sdkSend = KinesisClient.prototype.send as (...args: unknown[]) => unknown;
    this.#direct = Object.create(this, { send: { value: (...args: unknown[]) => sdkSend.apply(this, args) } }) as KinesisClient;
    // Assigned, not declared as a method, so `send` keeps the SDK's own typed overloads.
    this.send = ((command: unknown, optionsOrCb?: unknown, cb?: unknown) => this.#send(sdkSend, command, optionsOrCb, cb)) as KinesisClient['send'];
  }

  /**
   * The SDK's `send`: PutRecords and PutRecord fail over; every other command
   * goes to the primary region as with `KinesisClient`. Callbacks work too.
   */
  #send(sdkSend: (...args: unknown[]) => unknown, command: unknown, optionsOrCb?: unknown, cb?: unknown): unknown {
    // Duck-typed, not `instanceof`: the app may have its own copy of the SDK (see command-kind.ts).
    const put = asPutCommand(command);
    if (!put) return sdkSend.call(this, command, optionsOrCb, cb);
    const callback = (typeof optionsOrCb === 'function' ? optionsOrCb : cb) as SendCallback | undefined;
    const signal = typeof optionsOrCb === 'object' && optionsOrCb !== null ? (optionsOrCb as { abortSignal?: AbortSignalLike }).abortSignal : undefined;
    const result: Promise<unknown> = abortable<unknown>(signal ?? undefined, () => (put.kind === 'PutRecords' ? this.#putRecords(put.input) : this.#putRecord(put.input)));
    if (!callback) return result;
    result.then(
      (out) => callback(null, out),
      (error: unknown) => callback(error),
    );
    return undefined;
  }

  /**
   * Drain every open stream's spool and secondaries into the primary now (the
   * reconciler also does this by itself once the primary recovers).
   */
  async reconcile(): Promise<Map<string, ReconcileSummary>> {
    const out = new Map<string, ReconcileSummary>();
    for (const [stream, bus] of this.#buses) out.set(stream, await (await bus).reconcile());
    return out;
  }

  /** A point-in-time view of each open stream's bus (breakers, spool depth). */
  async failoverStats(): Promise<Map<string, BusStats>> {
    const out = new Map<string, BusStats>();
    for (const [stream, bus] of this.#buses) out.set(stream, await (await bus).stats());
    return out;
  }

  /** Flush pending writes and release every stream's bus, then the SDK client. */
  async close(): Promise<void> {
    this.#closing ??= this.#closeAll();
    return this.#closing;
  }

  /** Like the SDK's `destroy()`: releases everything (in the background; await `close()` to know when). */
  override destroy(): void {
    this.close().catch((error: unknown) => this.#logger?.error('spillway: closing the failover client failed.', { err: error }));
  }

  async #putRecords(input: PutRecordsInput) {
    const inputs = inputsOfPutRecords(input);
    const bus = await this.#busFor(streamOf(input));
    // A bad record fails the whole call before any record is sent, as Kinesis does.
    return putRecordsOutput(await bus.sendBatch(inputs, { rejectInvalid: true }));
  }

  async #putRecord(input: PutRecordInput) {
    const record = inputOfPutRecord(input);
    const bus = await this.#busFor(streamOf(input));
    const { id, landedOn } = await bus.send(record);
    return putRecordOutput(id, landedOn);
  }

  #busFor(stream: string): Promise<Bus> {
    if (this.#closing) return Promise.reject(new ClosedError('the failover client is closed; create a new one to send'));
    let bus = this.#buses.get(stream);
    if (!bus) {
      bus = this.#openBus(stream);
      this.#buses.set(stream, bus);
      // A bus that failed to open (a missing stream, a bad spool) is tried again on the next write.
      bus.catch(() => this.#buses.delete(stream));
    }
    return bus;
  }

  async #openBus(stream: string): Promise<Bus> {
    const region = await this.config.region();
    const config: BusConfigInput = configForStream(this.#failover, region, stream);
    const client = this.#direct;
    try {
      return await createBus(config, { primary: (c, context) => createKinesisTier(c as KinesisTierConfig, context, { client }), ...(this.#logger ? { logger: this.#logger } : {}) });
    } catch (error) {
      // A missing primary stream is the SDK's ResourceNotFoundException to a KinesisClient caller (docs/drop-in-client.md, "Errors").
      throw asStreamNotFound(error, stream, region);
    }
  }

  async #closeAll(): Promise<void> {
    const settled = await Promise.allSettled([...this.#buses.values()].map(async (bus) => (await bus).close()));
    this.#buses.clear();
    super.destroy();
    const failure = settled.find((s) => s.status === 'rejected' && !isOpenFailure(s.reason));
    if (failure?.status === 'rejected') throw failure.reason;
  }
}

/** A bus that never opened has nothing to close: its error was already reported to the send that opened it. */
function isOpenFailure(reason: unknown): boolean {
  return isSpillwayError(reason) && reason.code === 'spillway:config';
}

