/**
 * Delivery through the dispatcher, the dedupe gate and a shard's progress
 * (no I/O): a handler that returns no promise is called without waiting,
 * yet the checkpoint passes a record only after its id was marked seen; per
 * key, a failing record holds back the next one until it is retried; a
 * failed seen-mark is retried, never skipped; claims on ids in hand are
 * renewed until they are marked seen, and a claim found taken makes the
 * record wait for its new holder.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { pino } from 'pino';
import { createDedupeGate } from '../../src/consumer/dedupe-gate.js';
import { deliverRecord, type PendingRecord } from '../../src/consumer/delivery.js';
import { createDispatcher } from '../../src/consumer/dispatcher.js';
import { ConsumerEvents } from '../../src/consumer/events.js';
import { ShardProgress } from '../../src/consumer/shard-progress.js';
import type { ClaimingDedupeStore, ConsumedRecord, RecordHandler } from '../../src/consumer/types.js';
import type { DedupeStore } from '../../src/contracts/stores.js';

function deferred(): { promise: Promise<void>; resolve: () => void } {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
}

const record = (n: number, key = 'k'): ConsumedRecord => ({
  id: `id-${n}`,
  data: new Uint8Array(),
  partitionKey: key,
  eventTime: 0,
  sentTime: 0,
  kind: 'delta',
  contentType: 'application/octet-stream',
  enveloped: true,
  tier: 'primary',
  region: 'r',
  stream: 's',
  shardId: 'shard-0',
  sequenceNumber: String(n),
  source: 'kinesis:r:s',
});

/** A dedupe store whose writes wait for `hold` (when set) and fail `failures` times first. */
function heldStore(): DedupeStore & { hold?: Promise<void>; failures: number; marked: string[] } {
  const store = {
    hold: undefined as Promise<void> | undefined,
    failures: 0,
    marked: [] as string[],
    async filterUnseen(ids: readonly string[]) {
      return ids.filter((id) => !store.marked.includes(id));
    },
    async markSeen(ids: readonly string[]) {
      await store.hold;
      if (store.failures > 0) {
        store.failures--;
        throw new Error('disk hiccup');
      }
      store.marked.push(...ids);
    },
    async close() {},
  };
  return store;
}

function pipeline(handler: RecordHandler, store: DedupeStore) {
  const events = new ConsumerEvents();
  const errors: string[] = [];
  events.on('consumer.error', (e) => errors.push(e.error));
  const written: string[] = [];
  const progress = new ShardProgress(async (s) => void written.push(s), () => undefined);
  const gate = createDedupeGate({ store, ttlMs: 60_000, claimMs: 1_000 });
  const ctx = { handler, gate, deadLetter: { put: async () => undefined, close: async () => undefined }, events, logger: pino({ level: 'silent' }), signal: new AbortController().signal, maxAttempts: 3, baseDelayMs: 1, maxDelayMs: 2 };
  const dispatcher = createDispatcher<PendingRecord>({ concurrency: 4, maxInFlight: 100, keyOf: (i) => i.record.partitionKey, process: (i, release) => deliverRecord(ctx, i, release), onError: () => undefined });
  const feed = (records: ConsumedRecord[]): void => {
    progress.track(records.map((r) => r.sequenceNumber));
    for (const r of records) expect(dispatcher.offer({ record: r, progress, verdict: 'go' })).toBe(true);
  };
  return { feed, progress, written, errors, dispatcher };
}

describe('delivery', () => {
  it('runs a synchronous handler at once, but checkpoints a record only after its id is marked seen', async () => {
    const store = heldStore();
    const hold = deferred();
    store.hold = hold.promise;
    const handled: string[] = [];
    const p = pipeline((r) => void handled.push(r.id), store);
    p.feed([record(1), record(2), record(3, 'other')]);
    expect(handled).toEqual(['id-1', 'id-2', 'id-3']); // no promise in between
    await new Promise((r) => setTimeout(r, 20));
    expect(p.progress.position).toBeUndefined();
    expect(p.progress.pending).toBe(3);
    expect(p.dispatcher.inFlight).toBe(3); // still counted against maxInFlight
    hold.resolve();
    await p.dispatcher.idle();
    await p.progress.flush();
    expect(store.marked).toEqual(['id-1', 'id-2', 'id-3']);
    expect(p.progress.position).toBe('3');
    expect(p.written.at(-1)).toBe('3');
  });

  it('takes a handler that returns null or a value (not a promise) as done', async () => {
    const store = heldStore();
    const p = pipeline(((r: ConsumedRecord) => (r.id === 'id-1' ? null : 7)) as unknown as RecordHandler, store);
    p.feed([record(1), record(2)]);
    await p.dispatcher.idle();
    await p.progress.flush();
    expect(store.marked).toEqual(['id-1', 'id-2']);
    expect(p.written.at(-1)).toBe('2');
  });

  it('holds the next record of a key until a failing one succeeded on retry, and checkpoints in order', async () => {
    const store = heldStore();
    const calls: string[] = [];
    let failed = false;
    const p = pipeline((r) => {
      calls.push(r.id);
      if (r.id === 'id-2' && !failed) {
        failed = true;
        throw new Error('not yet');
      }
    }, store);
    p.feed([record(1), record(2), record(3), record(4, 'other')]);
    expect(calls).toEqual(['id-1', 'id-2', 'id-4']); // id-3 waits behind id-2; the other key does not
    await p.dispatcher.idle();
    expect(calls).toEqual(['id-1', 'id-2', 'id-4', 'id-2', 'id-3']);
    await p.progress.flush();
    expect(p.progress.position).toBe('4');
  });

  it('retries a failed seen-mark and only then counts the record finished', async () => {
    const store = heldStore();
    store.failures = 2;
    const p = pipeline(async () => undefined, store);
    p.feed([record(1)]);
    await p.dispatcher.idle();
    expect(p.errors.filter((e) => e.startsWith('could not mark the record seen'))).toHaveLength(2);
    expect(store.marked).toEqual(['id-1']);
    await p.progress.flush();
    expect(p.written).toEqual(['1']);
  });
});

describe('dedupe gate', () => {
  it('pairs a page with the unseen ids, whether or not the store kept their order', async () => {
    for (const reorder of [(ids: string[]) => ids, (ids: string[]) => [...ids].reverse()]) {
      const store: DedupeStore = {
        filterUnseen: async (ids) => reorder(ids.filter((id) => id !== 'b' && id !== 'd')),
        markSeen: async () => undefined,
        close: async () => undefined,
      };
      const gate = createDedupeGate({ store, ttlMs: 1_000, claimMs: 1_000 });
      expect(await gate.check(['a', 'b', 'c', 'd', 'e'])).toEqual(['go', 'duplicate', 'go', 'duplicate', 'go']);
    }
  });
});

/** An in-memory claiming store, one owner per view, claims expiring in real time like the Redis one. */
function claimingStores() {
  const keys = new Map<string, { value: string; until: number }>();
  const claimCalls: string[][] = [];
  const live = (id: string) => {
    const k = keys.get(id);
    return k && k.until > Date.now() ? k : undefined;
  };
  const view = (owner: string): ClaimingDedupeStore => ({
    async filterUnseen(ids) {
      return ids.filter((id) => live(id)?.value !== 'seen');
    },
    async markSeen(ids, ttlMs) {
      for (const id of ids) keys.set(id, { value: 'seen', until: Date.now() + ttlMs });
    },
    async claim(ids, claimMs) {
      if (owner === 'a') claimCalls.push([...ids]);
      return ids.map((id) => {
        const k = live(id);
        if (k?.value === 'seen') return 'seen';
        if (k && k.value !== owner) return 'busy';
        keys.set(id, { value: owner, until: Date.now() + claimMs });
        return 'claimed';
      });
    },
    async close() {},
  });
  return { a: view('a'), b: view('b'), keys, claimCalls };
}

describe('dedupe gate claims', () => {
  const CLAIM_MS = 60;
  // The claims' clock and the renewal timer are faked, so a busy machine cannot make a claim lapse between checks.
  beforeEach(() => {
    vi.useFakeTimers({ toFake: ['setInterval', 'clearInterval', 'Date'] });
  });
  afterEach(() => {
    vi.useRealTimers();
  });
  const sleep = (ms: number) => vi.advanceTimersByTimeAsync(ms);

  it('renews the claims of ids in hand past the claim time, and stops once they are marked seen', async () => {
    const stores = claimingStores();
    const gate = createDedupeGate({ store: stores.a, ttlMs: 60_000, claimMs: CLAIM_MS });
    expect(await gate.check(['x', 'y'])).toEqual(['go', 'go']);
    await sleep(CLAIM_MS * 4); // records waiting in the dispatcher far longer than the claim time
    expect(await stores.b.claim(['x', 'y'], 60_000)).toEqual(['busy', 'busy']);
    await new Promise<void>((resolve) => gate.finish('x', () => resolve()));
    const before = stores.claimCalls.length;
    await sleep(CLAIM_MS * 2);
    const later = stores.claimCalls.slice(before);
    expect(later.length).toBeGreaterThan(0);
    expect(later.every((ids) => ids.length === 1 && ids[0] === 'y')).toBe(true);
    gate.close();
    const atClose = stores.claimCalls.length;
    await sleep(CLAIM_MS * 2);
    expect(stores.claimCalls.length).toBe(atClose);
  });

  it('holds a record whose claim another worker took (after a stall) until that worker marks it seen', async () => {
    const stores = claimingStores();
    const gate = createDedupeGate({ store: stores.a, ttlMs: 60_000, claimMs: CLAIM_MS });
    expect(await gate.check(['id-1'])).toEqual(['go']);
    stores.keys.set('id-1', { value: 'b', until: Date.now() + 60_000 }); // worker b took it over
    await sleep(CLAIM_MS); // a renewal finds it taken
    expect(gate.claimLost('id-1')).toBe(true);
    const handled: string[] = [];
    const duplicates: string[] = [];
    const events = new ConsumerEvents();
    events.on('consumer.duplicate', ({ id }) => duplicates.push(id));
    const ctx = { handler: (r: ConsumedRecord) => void handled.push(r.id), gate, deadLetter: { put: async () => undefined, close: async () => undefined }, events, logger: pino({ level: 'silent' }), signal: new AbortController().signal, maxAttempts: 3, baseDelayMs: 1, maxDelayMs: 2 };
    const progress = new ShardProgress(async () => undefined, () => undefined);
    progress.track(['1']);
    let released = false;
    const delivered = deliverRecord(ctx, { record: record(1), progress, verdict: 'go' }, () => (released = true));
    await sleep(CLAIM_MS);
    expect(handled).toEqual([]);
    await stores.b.markSeen(['id-1'], 60_000);
    await delivered;
    expect(handled).toEqual([]);
    expect(duplicates).toEqual(['id-1']);
    expect(released).toBe(true);
    expect(progress.pending).toBe(0);
    gate.close();
  });
});
