/**
 * An in-memory {@link Spool} for unit tests: the same semantics as the disk
 * spool (order, leases, out-of-order acks, release, `maxBytes`, byte
 * accounting), without durability. Not for production: a crash loses it all.
 */
import type { Lease, Spool, SpoolStats } from '../../src/contracts/spool.js';
import { encodeEnvelope } from '../../src/envelope/codec.js';
import type { Envelope } from '../../src/envelope/types.js';
import { ClosedError, SpoolFullError, ValidationError } from '../../src/errors/index.js';

/** Bytes of framing the disk spool adds per record; counted here too so stats match. */
const FRAME_OVERHEAD_BYTES = 8;

/** Options for {@link createMemorySpool}. */
export interface MemorySpoolOptions {
  /** Most bytes of not-yet-drained records. Default: unlimited. */
  maxBytes?: number;
  /** Spool id; defaults to `memory:<n>`. */
  id?: string;
}

/** The in-memory spool, with the same counters as the disk spool's stats. */
export interface MemorySpool extends Spool {
  stats(): Promise<SpoolStats & { usedBytes: number; maxBytes: number }>;
}

interface Slot {
  readonly envelope: Envelope;
  readonly bytes: number;
  state: 'fresh' | 'leased' | 'released' | 'acked';
}

const EMPTY_LEASE: Lease = Object.freeze({ envelopes: Object.freeze([]) });
let counter = 0;

/** Create an empty in-memory spool. */
export function createMemorySpool(options: MemorySpoolOptions = {}): MemorySpool {
  counter += 1;
  return new MemorySpoolImpl(options.id ?? `memory:${counter}`, options.maxBytes ?? Number.POSITIVE_INFINITY);
}

class MemorySpoolImpl implements MemorySpool {
  private slots: Slot[] = [];
  /** Slots before `head` are the acknowledged prefix. */
  private head = 0;
  /** Slots from `fresh` on were never leased. */
  private fresh = 0;
  private released = 0;
  private records = 0;
  private bytes = 0;
  private usedBytes = 0;
  private closed = false;
  private readonly leases = new WeakMap<Lease, Slot[]>();

  constructor(
    readonly id: string,
    private readonly maxBytes: number,
  ) {}

  async append(batch: readonly Envelope[]): Promise<void> {
    this.assertOpen();
    const slots = batch.map((envelope): Slot => ({ envelope, bytes: FRAME_OVERHEAD_BYTES + encodeEnvelope(envelope).length, state: 'fresh' }));
    const size = slots.reduce((sum, s) => sum + s.bytes, 0);
    if (this.usedBytes + size > this.maxBytes) {
      throw new SpoolFullError(
        `memory spool ${this.id} is full: ${this.usedBytes} of ${this.maxBytes} bytes hold records not yet drained, ` +
          `and a batch of ${batch.length} records needs ${size} more; nothing of it was written. ` +
          `Raise spool.maxBytes, or let the reconciler drain the spool`,
        { reason: size > this.maxBytes ? 'too-large' : 'max-bytes' },
      );
    }
    this.slots.push(...slots);
    this.records += slots.length;
    this.bytes += size;
    this.usedBytes += size;
  }

  async scan(visit: (envelope: Envelope) => void): Promise<void> {
    this.assertOpen();
    for (let i = this.head; i < this.slots.length; i++) {
      const slot = this.slots[i] as Slot;
      if (slot.state !== 'acked') visit(slot.envelope);
    }
  }

  async lease(max: number): Promise<Lease> {
    this.assertOpen();
    if (!Number.isSafeInteger(max) || max < 0) throw new ValidationError(`lease(max) needs a whole number of records >= 0, got ${String(max)}`);
    const taken: Slot[] = [];
    for (let i = this.head; i < this.fresh && this.released > 0 && taken.length < max; i += 1) {
      const slot = this.slots[i] as Slot;
      if (slot.state !== 'released') continue;
      this.released -= 1;
      slot.state = 'leased';
      taken.push(slot);
    }
    for (; this.fresh < this.slots.length && taken.length < max; this.fresh += 1) {
      const slot = this.slots[this.fresh] as Slot;
      slot.state = 'leased';
      taken.push(slot);
    }
    if (taken.length === 0) return EMPTY_LEASE;
    const lease: Lease = Object.freeze({ envelopes: Object.freeze(taken.map((s) => s.envelope)) });
    this.leases.set(lease, taken);
    return lease;
  }

  async ack(lease: Lease): Promise<void> {
    this.assertOpen();
    const slots = this.claim(lease, 'acknowledge');
    for (const slot of slots) {
      slot.state = 'acked';
      this.records -= 1;
      this.bytes -= slot.bytes;
    }
    this.popAckedPrefix();
  }

  async release(lease: Lease): Promise<void> {
    this.assertOpen();
    for (const slot of this.claim(lease, 'release')) {
      slot.state = 'released';
      this.released += 1;
    }
  }

  async stats(): Promise<SpoolStats & { usedBytes: number; maxBytes: number }> {
    this.assertOpen();
    return { records: this.records, bytes: this.bytes, usedBytes: this.usedBytes, maxBytes: this.maxBytes };
  }

  async close(): Promise<void> {
    this.closed = true;
  }

  private assertOpen(): void {
    if (this.closed) throw new ClosedError(`spool ${this.id} is closed`);
  }

  private claim(lease: Lease, verb: string): Slot[] {
    if (lease.envelopes.length === 0) return [];
    const slots = this.leases.get(lease);
    if (slots === undefined) {
      throw new ValidationError(`cannot ${verb} this lease: spool ${this.id} did not hand it out, or it was already acknowledged or released`);
    }
    this.leases.delete(lease);
    return slots;
  }

  private popAckedPrefix(): void {
    for (let slot = this.slots[this.head]; slot?.state === 'acked'; slot = this.slots[this.head]) {
      this.usedBytes -= slot.bytes;
      this.head += 1;
    }
    if (this.head > 1024 && this.head * 2 > this.slots.length) {
      this.slots = this.slots.slice(this.head);
      this.fresh -= this.head;
      this.head = 0;
    }
  }
}
