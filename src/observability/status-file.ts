/**
 * The bus's status file, `<stateDir>/status.json`, for `spillway status` to
 * read from another process: breaker states, records per fallback target,
 * last failover and failback, spool depth and the age of its oldest record,
 * the last drain. Written atomically (temp file, fsync, rename) on each state
 * change and every `intervalMs`, so a reader never sees half a file.
 *
 * The file is advisory, not a guarantee: a crash leaves the last snapshot
 * behind, which is why it carries the writer's pid and `writtenAt`.
 */
import { open, rename, unlink } from 'node:fs/promises';
import type { BusStats } from '../bus/bus.js';
import type { BusEventMap, BusEvents, ReconcileSummary } from '../events/bus-events.js';
import { FallbackTally } from './fallback-tally.js';

/** The file's name inside the state directory. */
export const STATUS_FILE = 'status.json';

/** What status.json holds (format 1). */
export interface StatusSnapshot {
  format: 1;
  pid: number;
  startedAt: string;
  writtenAt: string;
  /** How often the writer refreshes the file, in ms: a much older `writtenAt` means no bus is writing it. */
  intervalMs: number;
  breakers: Array<{ target: string; tier: string; state: 'closed' | 'open' | 'halfOpen'; since: string }>;
  /** Records that landed on each fallback target since the bus started. */
  fallbackRecords: Record<string, number>;
  lastFailover?: { at: string; from: string; to: string; reason: string };
  lastFailback?: { at: string; target: string };
  spool: { records: number; bytes: number; oldestRecordAt?: string };
  queued: number;
  reconciling: boolean;
  lastDrain?: { at: string } & ReconcileSummary;
}

/** Options for {@link attachStatusFile}. */
export interface StatusFileOptions {
  /** Full path of the file, usually `<stateDir>/status.json`. */
  path: string;
  events: BusEvents;
  stats: () => Promise<BusStats>;
  /** Refresh period, in ms (default 5000). */
  intervalMs?: number;
  /** Milliseconds clock (default `Date.now`). */
  now?: () => number;
  /** Told when a write fails (the bus keeps running; the file is advisory). */
  onError?: (error: unknown) => void;
}

/** A running status-file writer. */
export interface StatusFile {
  /** Write now; resolves once the file on disk reflects the state at the call. */
  flush(): Promise<void>;
  /** Stop writing (a final write first) and unsubscribe. The file is left in place. */
  close(): Promise<void>;
}

/** Keep `options.path` up to date with the bus's state. */
export function attachStatusFile(options: StatusFileOptions): StatusFile {
  const now = options.now ?? Date.now;
  const iso = (ms: number) => new Date(ms).toISOString();
  const intervalMs = options.intervalMs ?? 5_000;
  const startedAt = iso(now());
  const tally = new FallbackTally(options.events);
  const since = new Map<string, string>();
  let lastFailover: StatusSnapshot['lastFailover'];
  let lastFailback: StatusSnapshot['lastFailback'];
  let lastDrain: StatusSnapshot['lastDrain'];
  let oldestRecordAt: string | undefined;
  let closed = false;

  const snapshot = async (): Promise<StatusSnapshot> => {
    const s = await options.stats();
    if (s.spool.records === 0) oldestRecordAt = undefined;
    else oldestRecordAt ??= iso(now()); // first seen non-empty: an upper bound on the oldest record's age
    return {
      format: 1, pid: process.pid, startedAt, writtenAt: iso(now()), intervalMs,
      breakers: s.breakers.map((b) => ({ ...b, since: since.get(b.target) ?? startedAt })),
      fallbackRecords: tally.peek(),
      ...(lastFailover ? { lastFailover } : {}),
      ...(lastFailback ? { lastFailback } : {}),
      spool: { records: s.spool.records, bytes: s.spool.bytes, ...(oldestRecordAt ? { oldestRecordAt } : {}) },
      queued: s.queued,
      reconciling: s.reconciling,
      ...(lastDrain ? { lastDrain } : {}),
    };
  };
  const writer = serialWriter(async () => writeAtomic(options.path, `${JSON.stringify(await snapshot(), null, 2)}\n`), options.onError);

  const changed = (): void => {
    if (!closed) void writer.request();
  };
  const handlers = {
    'breaker.open': ({ target }: BusEventMap['breaker.open']) => (since.set(target, iso(now())), changed()),
    'breaker.halfOpen': ({ target }: BusEventMap['breaker.halfOpen']) => (since.set(target, iso(now())), changed()),
    'breaker.close': ({ target, tier }: BusEventMap['breaker.close']) => {
      since.set(target, iso(now()));
      if (tier === 'primary') lastFailback = { at: iso(now()), target };
      changed();
    },
    'bus.failover': ({ from, to, reason }: BusEventMap['bus.failover']) => {
      const first = !lastFailover || lastFailover.from !== from || lastFailover.to !== to;
      lastFailover = { at: iso(now()), from, to, reason };
      if (first) changed();
    },
    'spool.append': ({ records }: BusEventMap['spool.append']) => {
      if (records > 0 && !oldestRecordAt) {
        oldestRecordAt = iso(now());
        changed();
      }
    },
    'reconciler.done': (summary: BusEventMap['reconciler.done']) => ((lastDrain = { at: iso(now()), ...summary }), changed()),
  };
  for (const [name, handler] of Object.entries(handlers)) options.events.on(name as keyof BusEventMap, handler as (p: unknown) => void);
  const timer = setInterval(changed, intervalMs);
  timer.unref?.();
  changed();

  return {
    flush: () => writer.request(),
    async close() {
      if (closed) return;
      closed = true;
      clearInterval(timer);
      for (const [name, handler] of Object.entries(handlers)) options.events.off(name as keyof BusEventMap, handler as (p: unknown) => void);
      tally.detach();
      await writer.request();
    },
  };
}

/**
 * Runs `write` one at a time; a request made while a write runs is served by
 * one more write after it (requests coalesce).
 */
function serialWriter(write: () => Promise<void>, onError?: (error: unknown) => void): { request(): Promise<void> } {
  let running: Promise<void> | undefined;
  let next: Promise<void> | undefined;
  const run = (): Promise<void> =>
    write().catch((error: unknown) => {
      onError?.(error);
    });
  return {
    request() {
      if (!running) {
        running = run().finally(() => {
          running = undefined;
        });
        return running;
      }
      next ??= running.then(() => {
        next = undefined;
        return this.request();
      });
      return next;
    },
  };
}

/** Write `text` to `path` so a reader sees the old file or the new one, never a mix. */
export async function writeAtomic(path: string, text: string): Promise<void> {
  const tmp = `${path}.${process.pid}.tmp`;
  const handle = await open(tmp, 'w', 0o644);
  try {
    await handle.writeFile(text);
    await handle.sync();
  } finally {
    await handle.close();
  }
  try {
    await rename(tmp, path);
  } catch (error) {
    await unlink(tmp).catch(() => undefined);
    throw error;
  }
}
