/**
 * Lanes: records are assigned to a lane by a hash of their partition key, so
 * every record of one key goes through the same lane, in the order it was
 * submitted. The batcher keeps at most one batch in flight per lane.
 */

/**
 * The lane of a partition key: 32-bit FNV-1a over its UTF-16 code units,
 * modulo `lanes`. Deterministic across processes and runs.
 */
export function laneOf(partitionKey: string, lanes: number): number {
  if (lanes === 1) return 0;
  let h = 0x811c9dc5;
  for (let i = 0; i < partitionKey.length; i++) {
    h ^= partitionKey.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return (h >>> 0) % lanes;
}

/** A FIFO with O(1) push and shift that compacts its storage as it drains. */
export class Fifo<T> {
  #items: T[] = [];
  #head = 0;

  /** Items waiting. */
  get length(): number {
    return this.#items.length - this.#head;
  }

  push(item: T): void {
    this.#items.push(item);
  }

  /** The item `i` places from the front (0 is the next out). */
  peek(i: number): T | undefined {
    return this.#items[this.#head + i];
  }

  /** Take the first `n` items, in order. */
  take(n: number): T[] {
    const out = this.#items.slice(this.#head, this.#head + n);
    this.#head += out.length;
    if (this.#head === this.#items.length) {
      this.#items = [];
      this.#head = 0;
    } else if (this.#head > 1024 && this.#head * 2 > this.#items.length) {
      this.#items = this.#items.slice(this.#head);
      this.#head = 0;
    }
    return out;
  }
}
