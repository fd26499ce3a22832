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
  return new StatusFileWriter(options);
}

/** See the module comment. */
class StatusFileWriter implements StatusFile {
  readonly #options: StatusFileOptions;
  readonly #now: () => number;
  readonly #intervalMs: number;
  readonly #startedAt: string;
  readonly #tally: FallbackTally;
  readonly #since = new Map<string, string>();
  readonly #writer: { request(): Promise<void> };
  readonly #timer: NodeJS.Timeout;
  readonly #handlers: Array<[keyof BusEventMap, (payload: never) => void]>;
  #lastFailover: StatusSnapshot['lastFailover'];
  #lastFailback: StatusSnapshot['lastFailback'];
  #lastDrain: StatusSnapshot['lastDrain'];
  #oldestRecordAt: string | undefined;
  #closed = false;

  constructor(options: StatusFileOptions) {
    this.#options = options;
    this.#now = options.now ?? Date.now;
    this.#intervalMs = options.intervalMs ?? 5_000;
    this.#startedAt = this.#iso();
    this.#tally = new FallbackTally(options.events);
    this.#writer = serialWriter(async () => writeAtomic(options.path, `${JSON.stringify(await this.#snapshot(), null, 2)}\n`), options.onError);
    this.#handlers = [
      ['breaker.open', ({ target }: BusEventMap['breaker.open']) => this.#breaker(target)],
      ['breaker.halfOpen', ({ target }: BusEventMap['breaker.halfOpen']) => this.#breaker(target)],
      ['breaker.close', ({ target, tier }: BusEventMap['breaker.close']) => this.#breaker(target, tier === 'primary')],
      ['bus.failover', (e: BusEventMap['bus.failover']) => this.#failover(e)],
      ['spool.append', ({ records }: BusEventMap['spool.append']) => this.#spooled(records)],
      ['reconciler.done', (summary: ReconcileSummary) => {
        this.#lastDrain = { at: this.#iso(), ...summary };
        this.#changed();
      }],
    ];
    for (const [name, handler] of this.#handlers) options.events.on(name, handler as (p: unknown) => void);
    this.#timer = setInterval(() => this.#changed(), this.#intervalMs);
    this.#timer.unref?.();
    this.#changed();
  }

  flush(): Promise<void> {
    return this.#writer.request();
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    clearInterval(this.#timer);
    for (const [name, handler] of this.#handlers) this.#options.events.off(name, handler as (p: unknown) => void);
    this.#tally.detach();
    await this.#writer.request();
  }

  #iso(ms = this.#now()): string {
    return new Date(ms).toISOString();
  }

  #changed(): void {
    if (!this.#closed) void this.#writer.request();
  }

  #breaker(target: string, failback = false): void {
    this.#since.set(target, this.#iso());
    if (failback) this.#lastFailback = { at: this.#iso(), target };
    this.#changed();
  }

  #failover({ from, to, reason }: BusEventMap['bus.failover']): void {
    const first = !this.#lastFailover || this.#lastFailover.from !== from || this.#lastFailover.to !== to;
    this.#lastFailover = { at: this.#iso(), from, to, reason };
    if (first) this.#changed();
  }

  #spooled(records: number): void {
    if (records === 0 || this.#oldestRecordAt) return;
    this.#oldestRecordAt = this.#iso();
    this.#changed();
  }

  async #snapshot(): Promise<StatusSnapshot> {
    const s = await this.#options.stats();
    if (s.spool.records === 0) this.#oldestRecordAt = undefined;
    else this.#oldestRecordAt ??= this.#iso(); // first seen non-empty: an upper bound on the oldest record's age
    const optional = { lastFailover: this.#lastFailover, lastFailback: this.#lastFailback, lastDrain: this.#lastDrain };
    return {
      format: 1,
      pid: process.pid,
      startedAt: this.#startedAt,
      writtenAt: this.#iso(),
      intervalMs: this.#intervalMs,
      breakers: s.breakers.map((b) => ({ ...b, since: this.#since.get(b.target) ?? this.#startedAt })),
      fallbackRecords: this.#tally.peek(),
      spool: { records: s.spool.records, bytes: s.spool.bytes, ...(this.#oldestRecordAt ? { oldestRecordAt: this.#oldestRecordAt } : {}) },
      queued: s.queued,
      reconciling: s.reconciling,
      ...Object.fromEntries(Object.entries(optional).filter(([, v]) => v !== undefined)),
    };
  }
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
