/**
 * Collects single sends into batches for the router, in lanes: per-key order
 * with several batches in flight.
 *
 * Invariants
 * - A record's lane is a hash of its partition key (`laneOf`), so all records
 *   of one key share a lane, queued in `submit` order.
 * - Each lane has at most one batch in flight, and a lane's next records are
 *   taken only after that batch has every outcome: per-key order holds from
 *   `submit` to the tier. Different lanes run at the same time.
 * - A batch may gather the records of several idle lanes (oldest ready lane
 *   first, each lane's records contiguous and in order), so a few records per
 *   lane still travel in one call, until it holds 500 (one PutRecords call's
 *   worth; one lane alone may fill up to `maxBatchRecords`); under load,
 *   batches of different lanes fly at once. After an answer, the next batch is
 *   taken on the next turn of the event loop, so lanes freed by answers that
 *   arrive together are gathered too (fuller calls under load).
 * - A batch holds at most `maxBatchRecords` records and `maxBatchBytes`
 *   bytes (Kinesis' counting: encoded data plus partition key); a single
 *   record larger than that still goes alone, for the target to judge.
 * - Every submitted record is settled exactly once: with the dispatch's
 *   outcome, or rejected with the error the dispatch threw.
 * - Backpressure: at most `maxQueuedRecords` records wait in the lanes; more
 *   wait, in submit order, until a batch leaves a lane.
 */
import type { Envelope } from '../envelope/index.js';
import { ConfigError, type SpillwayError } from '../errors/index.js';
import { recordBytes } from './chunk.js';
import { Fifo, laneOf } from './lanes.js';
import type { DispatchOutcome, LandedOn } from './router.js';

/** A batch takes records from a further ready lane only while it holds fewer than this many. */
const GATHER_RECORDS = 500;

/** Batching knobs; all have defaults. */
export interface BatcherOptions {
  /** Records per dispatched batch (default 500, a PutRecords call). */
  maxBatchRecords?: number;
  /** Bytes per dispatched batch (default 5 MiB, a PutRecords call). */
  maxBatchBytes?: number;
  /** How long a lone record waits for company, in ms (default 0: the next turn of the event loop). */
  lingerMs?: number;
  /** Records waiting in the lanes before further records wait for room (default 50000). */
  maxQueuedRecords?: number;
  /** Lanes, each with one batch in flight (default 8; 1 orders the whole bus through one batch at a time). */
  lanes?: number;
}

/** Records submitted together, settled together: one promise for the group, not one per record. */
interface Group {
  readonly outcomes: DispatchOutcome[];
  left: number;
  resolve(outcomes: DispatchOutcome[]): void;
}

/**
 * Records waiting, in order: each record's envelope, its group and its place
 * in the group, in three parallel arrays (no object per record: a record may
 * wait through several garbage collections, and each live object costs one).
 */
class PendingQueue {
  #envelopes: Envelope[] = [];
  #groups: Group[] = [];
  #indexes: number[] = [];
  #head = 0;

  get length(): number {
    return this.#envelopes.length - this.#head;
  }

  push(envelope: Envelope, group: Group, index: number): void {
    this.#envelopes.push(envelope);
    this.#groups.push(group);
    this.#indexes.push(index);
  }

  /** The envelope `i` places from the front. */
  envelopeAt(i: number): Envelope {
    return this.#envelopes[this.#head + i] as Envelope;
  }

  /** Move the first `n` records, in order, to the end of `into`. */
  takeInto(n: number, into: Taken): void {
    const end = this.#head + n;
    for (let i = this.#head; i < end; i++) {
      into.envelopes.push(this.#envelopes[i] as Envelope);
      into.groups.push(this.#groups[i] as Group);
      into.indexes.push(this.#indexes[i] as number);
    }
    this.#head = end;
    if (this.#head === this.#envelopes.length) {
      this.#envelopes = [];
      this.#groups = [];
      this.#indexes = [];
      this.#head = 0;
    } else if (this.#head > 1024 && this.#head * 2 > this.#envelopes.length) {
      this.#envelopes = this.#envelopes.slice(this.#head);
      this.#groups = this.#groups.slice(this.#head);
      this.#indexes = this.#indexes.slice(this.#head);
      this.#head = 0;
    }
  }
}

/** Records taken from a queue: parallel arrays, as in {@link PendingQueue}. */
interface Taken {
  readonly envelopes: Envelope[];
  readonly groups: Group[];
  readonly indexes: number[];
}

interface Lane {
  readonly queue: PendingQueue;
  /** A batch holding records of this lane is in flight. */
  busy: boolean;
  /** Listed in the batcher's ready list (idle, with records). */
  ready: boolean;
}

type Dispatch = (batch: readonly Envelope[]) => Promise<DispatchOutcome[]>;

function positiveInt(value: number | undefined, fallback: number, field: string, max = Number.MAX_SAFE_INTEGER): number {
  if (value === undefined) return fallback;
  if (!Number.isInteger(value) || value < 1 || value > max) {
    throw new ConfigError(`batching.${field} must be a whole number from 1 to ${max}, got ${String(value)}`, { field: `batching.${field}` });
  }
  return value;
}

/** See the module's invariants. */
export class SendBatcher {
  readonly #dispatch: Dispatch;
  readonly #maxRecords: number;
  readonly #maxBytes: number;
  readonly #lingerMs: number;
  readonly #maxQueued: number;
  readonly #lanes: Lane[];
  /** Idle lanes with records, in the order they became so. */
  readonly #ready = new Fifo<Lane>();
  readonly #inFlight = new Set<Promise<void>>();
  /** The pump that is due: on the next turn (`immediate`) or after `lingerMs`. */
  #timer: { cancel(): void; immediate: boolean } | undefined;
  #waiting = 0;
  #inFlightRecords = 0;
  /** Records submitted while `maxQueuedRecords` were waiting: not yet in a lane. */
  readonly #overflow = new PendingQueue();

  /** `options.lanes` must be 1-1024; a bad value throws a {@link ConfigError} naming `batching.lanes`. */
  constructor(dispatch: Dispatch, options: BatcherOptions = {}) {
    this.#dispatch = dispatch;
    this.#maxRecords = positiveInt(options.maxBatchRecords, 500, 'maxBatchRecords');
    this.#maxBytes = positiveInt(options.maxBatchBytes, 5 * 1_048_576, 'maxBatchBytes');
    this.#lingerMs = options.lingerMs ?? 0;
    this.#maxQueued = positiveInt(options.maxQueuedRecords, 50_000, 'maxQueuedRecords');
    const lanes = positiveInt(options.lanes, 8, 'lanes', 1024);
    this.#lanes = Array.from({ length: lanes }, () => ({ queue: new PendingQueue(), busy: false, ready: false }));
  }

  /** Records waiting or in flight. */
  get queued(): number {
    return this.#overflow.length + this.#waiting + this.#inFlightRecords;
  }

  /** Records waiting for room in the lanes (beyond `maxQueuedRecords`). */
  get waitingForRoom(): number {
    return this.#overflow.length;
  }

  /** Batches in flight right now (at most one per lane). */
  get batchesInFlight(): number {
    return this.#inFlight.size;
  }

  /** Queue one record; resolves where it landed, rejects with the router's error. */
  async submit(envelope: Envelope): Promise<LandedOn> {
    const outcome = (await this.submitAll([envelope]))[0] as DispatchOutcome;
    if (!outcome.ok) throw outcome.error;
    return outcome.landedOn;
  }

  /**
   * Queue records in order; resolves once every one has an outcome, one per
   * record in the same order (never rejects: a dispatch that threw is each
   * record's error).
   */
  submitAll(envelopes: readonly Envelope[]): Promise<DispatchOutcome[]> {
    return new Promise<DispatchOutcome[]>((resolve) => {
      const group: Group = { outcomes: new Array<DispatchOutcome>(envelopes.length), left: envelopes.length, resolve };
      if (envelopes.length === 0) resolve(group.outcomes);
      for (let index = 0; index < envelopes.length; index++) {
        const envelope = envelopes[index] as Envelope;
        // While records wait for room, a new one waits behind them: a key's records keep their submit order.
        if (this.#waiting >= this.#maxQueued || this.#overflow.length > 0) this.#overflow.push(envelope, group, index);
        else this.#enqueue(envelope, group, index);
      }
    });
  }

  /** Resolves once every record submitted so far has an outcome. */
  async flush(): Promise<void> {
    for (;;) {
      // A pump that is due (records waiting, or a flight just answered with more behind it) runs now.
      if (this.#timer) {
        this.#timer.cancel();
        this.#timer = undefined;
        this.#pump();
      }
      if (this.#inFlight.size === 0) return;
      await Promise.all([...this.#inFlight]);
    }
  }

  #enqueue(envelope: Envelope, group: Group, index: number): void {
    const lane = this.#lanes[laneOf(envelope.partitionKey, this.#lanes.length)] as Lane;
    lane.queue.push(envelope, group, index);
    this.#waiting++;
    if (!lane.busy && !lane.ready) {
      lane.ready = true;
      this.#ready.push(lane);
      this.#schedule();
    } else if (this.#timer?.immediate === false && this.#waiting >= this.#maxRecords) this.#schedule();
  }

  /**
   * Make a pump due: on the next turn (`now`), else after `lingerMs`. A pump
   * on the next turn replaces a pending linger (a full batch's worth, or
   * records that were waiting behind an answer, do not wait out another lone
   * record's linger); nothing replaces a pump already due on the next turn.
   */
  #schedule(now = this.#lingerMs === 0 || this.#waiting >= this.#maxRecords): void {
    if (this.#timer && (this.#timer.immediate || !now)) return;
    this.#timer?.cancel();
    // setImmediate, not setTimeout(0): Node rounds a 0 ms timer up to 1 ms, which a lone awaited send would pay.
    if (now) {
      const handle = setImmediate(() => this.#pump());
      this.#timer = { cancel: () => clearImmediate(handle), immediate: true };
      return;
    }
    const handle = setTimeout(() => this.#pump(), this.#lingerMs);
    this.#timer = { cancel: () => clearTimeout(handle), immediate: false };
  }

  /** Dispatch every idle lane's records, in batches that may each gather several lanes. */
  #pump(): void {
    this.#timer = undefined;
    while (this.#ready.length > 0) {
      const { batch, lanes } = this.#take();
      const records = batch.envelopes.length;
      this.#waiting -= records;
      this.#inFlightRecords += records;
      const flight: Promise<void> = this.#fly(batch).finally(() => {
        this.#inFlight.delete(flight);
        this.#inFlightRecords -= records;
        for (const lane of lanes) {
          lane.busy = false;
          if (lane.queue.length > 0) {
            lane.ready = true;
            this.#ready.push(lane);
          }
        }
        // On the next turn, not now: answers of several flights that arrive together free their lanes first, so one
        // batch gathers all their records.
        this.#schedule(true);
      });
      this.#inFlight.add(flight);
    }
    this.#admitWaiting();
  }

  async #fly(batch: Taken): Promise<void> {
    const { envelopes, groups, indexes } = batch;
    let outcomes: DispatchOutcome[];
    try {
      outcomes = await this.#dispatch(envelopes);
    } catch (error) {
      const failed: DispatchOutcome = { ok: false, error: error as SpillwayError };
      outcomes = envelopes.map(() => failed);
    }
    for (let i = 0; i < envelopes.length; i++) {
      const group = groups[i] as Group;
      group.outcomes[indexes[i] as number] = outcomes[i] as DispatchOutcome;
      if (--group.left === 0) group.resolve(group.outcomes);
    }
  }

  /** One batch from the ready lanes, oldest first, within the record and byte limits; each lane taken is marked busy. */
  #take(): { batch: Taken; lanes: Lane[] } {
    const batch: Taken = { envelopes: [], groups: [], indexes: [] };
    const taken = batch.envelopes;
    const lanes: Lane[] = [];
    let bytes = 0;
    // Lanes are gathered into one batch only up to a PutRecords call's worth: a target that takes far more records
    // per call (aggregation) still gets several batches in flight, not every lane waiting on one call.
    while (this.#ready.length > 0 && taken.length < this.#maxRecords && (taken.length === 0 || taken.length < GATHER_RECORDS)) {
      const lane = this.#ready.peek(0) as Lane;
      let n = 0;
      const limit = Math.min(lane.queue.length, this.#maxRecords - taken.length);
      while (n < limit) {
        const size = recordBytes(lane.queue.envelopeAt(n));
        if (taken.length + n > 0 && bytes + size > this.#maxBytes) break;
        bytes += size;
        n++;
      }
      if (n === 0) break; // the batch is full by bytes
      this.#ready.take(1);
      lane.ready = false;
      lane.busy = true;
      lanes.push(lane);
      lane.queue.takeInto(n, batch);
    }
    return { batch, lanes };
  }

  /** Move records that waited for room into their lanes, oldest first, as far as room allows. */
  #admitWaiting(): void {
    const room = Math.min(this.#overflow.length, this.#maxQueued - this.#waiting);
    if (room <= 0) return;
    const admitted: Taken = { envelopes: [], groups: [], indexes: [] };
    this.#overflow.takeInto(room, admitted);
    for (let i = 0; i < room; i++) this.#enqueue(admitted.envelopes[i] as Envelope, admitted.groups[i] as Group, admitted.indexes[i] as number);
  }
}
