/**
 * Merges several drain sources (the spool, each shard of a secondary stream)
 * into one stream ordered by record id. Ids are time-ordered, and each source
 * yields its records in order, so a k-way merge on the heads restores send
 * order across sources, and with it per-key order.
 *
 * A source that fails to read has an unknown head: any of its records may be
 * older than the other heads. Unless `passOver` says to drain without it, the
 * merge stops there (`blockedBy`): what it already gave out was older than
 * every record that source still holds, and nothing after it can be proven so.
 */
import type { DrainSource, SourceChunk } from '../contracts/index.js';
import type { Envelope } from '../envelope/index.js';

/** Records taken from the merge, and the chunks they finished. */
export interface MergeWindow {
  envelopes: Envelope[];
  /** Chunks whose every record is in this window or an earlier one: commit after writing. */
  completed: SourceChunk[];
}

interface Head {
  source: DrainSource;
  chunk?: SourceChunk;
  pos: number;
  done: boolean;
}

/** See the module comment. */
export class MergedReader {
  readonly #heads: Head[];
  readonly #readSize: number;
  readonly #signal: AbortSignal;
  readonly #passOver: (source: DrainSource, error: unknown) => boolean;
  /** Sources that failed to read this run. */
  readonly unavailable: string[] = [];
  /** The source whose failed read stopped the merge, and its error. */
  blockedBy: { source: string; error: unknown } | undefined;

  /** `passOver` decides whether the merge goes on without a source that failed to read (default: it stops). */
  constructor(sources: readonly DrainSource[], readSize: number, signal: AbortSignal, passOver: (source: DrainSource, error: unknown) => boolean = () => false) {
    this.#heads = sources.map((source) => ({ source, pos: 0, done: false }));
    this.#readSize = readSize;
    this.#signal = signal;
    this.#passOver = passOver;
  }

  /** Up to `max` records in id order; `undefined` once every source is drained. */
  async next(max: number): Promise<MergeWindow | undefined> {
    const window: MergeWindow = { envelopes: [], completed: [] };
    while (window.envelopes.length < max && !this.blockedBy) {
      await this.#fill(window);
      if (this.blockedBy) break;
      const head = this.#smallest();
      if (!head?.chunk) break;
      window.envelopes.push(head.chunk.envelopes[head.pos] as Envelope);
      head.pos++;
      if (head.pos >= head.chunk.envelopes.length) {
        window.completed.push(head.chunk);
        head.chunk = undefined;
      }
    }
    return window.envelopes.length === 0 && window.completed.length === 0 ? undefined : window;
  }

  /**
   * Hand back every chunk read but not yet committed (those listed, and each
   * source's chunk in hand), so the next run rereads it. Keeps going past a
   * chunk that cannot be handed back; returns those errors.
   */
  async abandon(uncommitted: readonly SourceChunk[]): Promise<unknown[]> {
    const errors: unknown[] = [];
    for (const head of this.#heads) {
      const chunks = uncommitted.filter((c) => owner.get(c) === head.source);
      if (head.chunk) chunks.push(head.chunk);
      head.chunk = undefined;
      for (const chunk of chunks) await head.source.abandon?.(chunk).catch((error: unknown) => errors.push(error));
    }
    return errors;
  }

  async #fill(window: MergeWindow): Promise<void> {
    for (const head of this.#heads) {
      while (!head.done && !head.chunk) {
        let chunk: SourceChunk | undefined;
        try {
          chunk = await head.source.next(this.#readSize, this.#signal);
        } catch (error) {
          if (this.#signal.aborted) throw error;
          this.unavailable.push(head.source.id);
          head.done = true;
          // The other sources are still tried, so every unreadable one is known (and its wait starts) in this run.
          if (!this.#passOver(head.source, error)) this.blockedBy ??= { source: head.source.id, error };
          break;
        }
        if (!chunk) head.done = true;
        else {
          owner.set(chunk, head.source);
          if (chunk.envelopes.length === 0) window.completed.push(chunk);
          else {
            head.chunk = chunk;
            head.pos = 0;
          }
        }
      }
    }
  }

  #smallest(): Head | undefined {
    let best: Head | undefined;
    for (const head of this.#heads) {
      if (!head.chunk) continue;
      const id = (head.chunk.envelopes[head.pos] as Envelope).id;
      if (!best?.chunk || id < (best.chunk.envelopes[best.pos] as Envelope).id) best = head;
    }
    return best;
  }
}

const owner = new WeakMap<SourceChunk, DrainSource>();
