/**
 * Counts the records that landed on each fallback target (a secondary or the
 * spool), from the bus's failover events alone: a record handed to a target
 * and not handed on from it landed there.
 */
import type { BusEvents, BusEventMap } from '../events/bus-events.js';

/** Records per fallback target, since the tally was attached or last taken. */
export class FallbackTally {
  readonly #events: BusEvents;
  readonly #net = new Map<string, number>();
  readonly #received = new Set<string>();
  readonly #onFailover = ({ from, to, records }: BusEventMap['bus.failover']): void => {
    this.#received.add(to);
    this.#net.set(to, (this.#net.get(to) ?? 0) + records);
    this.#net.set(from, (this.#net.get(from) ?? 0) - records);
  };

  /** Start counting the failovers `events` reports. */
  constructor(events: BusEvents) {
    this.#events = events;
    events.on('bus.failover', this.#onFailover);
  }

  /** Records per fallback target since the last `take` (targets with none left out). */
  peek(): Record<string, number> {
    const out: Record<string, number> = {};
    for (const target of this.#received) {
      const n = this.#net.get(target) ?? 0;
      if (n > 0) out[target] = n;
    }
    return out;
  }

  /** Like `peek`, and start counting afresh. */
  take(): Record<string, number> {
    const out = this.peek();
    this.#net.clear();
    return out;
  }

  /** Stop counting. */
  detach(): void {
    this.#events.off('bus.failover', this.#onFailover);
  }
}

/** Sum of a per-target count. */
export function total(counts: Record<string, number>): number {
  return Object.values(counts).reduce((a, b) => a + b, 0);
}
