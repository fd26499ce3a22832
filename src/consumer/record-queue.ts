/**
 * The iterator form of a consumer: `for await (const record of consumer)`.
 * A record counts as handled when the loop asks for the next one; leaving
 * the loop (break, return, throw) closes the consumer, and the record being
 * handled then is not checkpointed, so it is read again next time.
 */
import type { ConsumedRecord, RecordHandler } from './types.js';

/** An async iterator over `run`, one record handed out at a time. */
export function createRecordQueue(run: (handler: RecordHandler) => Promise<void>, close: () => Promise<void>): AsyncIterator<ConsumedRecord> {
  const waiting: Array<{ record: ConsumedRecord; ack: () => void; nack: (e: Error) => void }> = [];
  let readers: Array<(r: IteratorResult<ConsumedRecord>) => void> = [];
  let current: (typeof waiting)[number] | undefined;
  let done = false;
  // The consumer closed (by `return()`, or by `close()` called anywhere, even inside the loop body): every record
  // handed over and not acknowledged is left unfinished, the one whose loop body is running (`current`) included.
  // `close()` waits for the handlers to settle, so leaving `current` pending would hang a `close()` awaited inside
  // the loop body; nacked after the abort, it is not retried, not checkpointed, and read again next time.
  const finish = (): void => {
    done = true;
    current?.nack(new Error('the consumer closed before this record was handled'));
    current = undefined;
    for (const w of waiting.splice(0)) w.nack(new Error('the consumer closed before this record was handled'));
    for (const r of readers.splice(0)) r({ done: true, value: undefined });
  };
  void run((record) =>
    new Promise<void>((ack, nack) => {
      if (done) return nack(new Error('the consumer closed before this record was handled'));
      const item = { record, ack, nack };
      const reader = readers.shift();
      if (reader) {
        current = item;
        reader({ done: false, value: record });
      } else waiting.push(item);
    }),
  ).then(finish, finish);
  return {
    next() {
      current?.ack();
      current = undefined;
      if (done) return Promise.resolve({ done: true, value: undefined });
      const item = waiting.shift();
      if (item) {
        current = item;
        return Promise.resolve({ done: false, value: item.record });
      }
      return new Promise((resolve) => (readers = [...readers, resolve]));
    },
    async return() {
      const closed = close(); // aborts first, so the unfinished record is left for next time, not retried
      current?.nack(new Error('the iteration stopped before this record was handled'));
      current = undefined;
      await closed;
      return { done: true, value: undefined };
    },
  };
}
