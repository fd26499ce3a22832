/**
 * Raw mode (`envelope: 'none'`) writes the producer's bytes to the primary
 * with no spillway envelope, so a write whose fate is unknown (a timeout after
 * sending) cannot be recognised by its id when the primary is read back. This
 * index recognises it by content instead: partition key, explicit hash key and
 * a SHA-256 of the bytes.
 *
 * Invariants
 * - Every record offered to the raw primary is noted before the request is
 *   sent, so any record that may have landed has a fingerprint here.
 * - The index lives in memory and holds the most recent `limit` records: a
 *   process that dies with a write of unknown fate, or a write older than the
 *   last `limit` records, can be replayed a second time. Records with
 *   identical key and bytes are told apart by order only.
 */
import { createHash } from 'node:crypto';
import type { Envelope } from '../../src/envelope/index.js';
import type { ScannedRecord } from './shard-source.js';

/** Fingerprint of a record as the stream holds it. */
export function rawFingerprint(partitionKey: string, data: Uint8Array): string {
  return createHash('sha256').update(partitionKey).update('\0').update(data).digest('base64');
}

/** See the module comment. */
export class RawWriteIndex {
  readonly #limit: number;
  /** id → fingerprint, oldest first. */
  readonly #byId = new Map<string, string>();

  constructor(limit = 200_000) {
    this.#limit = limit;
  }

  /** Remember the fingerprints of records about to be written. */
  note(batch: readonly Envelope[]): void {
    for (const e of batch) {
      this.#byId.delete(e.id);
      this.#byId.set(e.id, rawFingerprint(e.partitionKey, e.data));
    }
    for (const id of this.#byId.keys()) {
      if (this.#byId.size <= this.#limit) break;
      this.#byId.delete(id);
    }
  }

  /** How many records the index remembers. */
  get size(): number {
    return this.#byId.size;
  }

  /**
   * A matcher for a scan of the primary: each read-back record whose content
   * is that of one of `ids` stands for it (each id matched at most once, in
   * id order for identical content). Ids the index does not know never match.
   */
  matcherFor(ids: ReadonlySet<string>): (record: ScannedRecord) => string | undefined {
    const waiting = new Map<string, string[]>();
    for (const id of [...ids].sort()) {
      const fp = this.#byId.get(id);
      if (fp === undefined) continue;
      const list = waiting.get(fp) ?? [];
      list.push(id);
      waiting.set(fp, list);
    }
    return (record) => {
      if (waiting.size === 0) return undefined;
      const list = waiting.get(rawFingerprint(record.partitionKey, record.data));
      return list?.shift();
    };
  }
}
