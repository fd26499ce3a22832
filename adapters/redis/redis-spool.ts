/**
 * The Redis spool: one Redis Stream per bus, read through one consumer group
 * so that several reconcilers share it without draining a record twice.
 *
 * Invariants
 * - `append` writes a whole batch or nothing (one Lua script: the `maxBytes`
 *   check, every XADD and the bytes counter, atomically) and resolves only
 *   after the confirmation its durability plan asks for (WAITAOF, WAIT, or
 *   none where `appendfsync always` already fsyncs before the reply). A
 *   failure is classified: SpoolFullError (server OOM or `maxBytes`),
 *   TransientError (down, slow, timed out; `ambiguous` when it may have run).
 *   Every command is bounded by `commandTimeoutMs`; nothing waits for a
 *   reconnection (no offline queue, no retry of a command in flight).
 * - Nothing is trimmed: an entry is deleted only by `ack` (XACK then XDEL of
 *   exactly the leased ids), after the primary acknowledged it.
 * - A leased entry stays in this consumer's pending list until acked; after a
 *   crash or close it comes back to the same consumer name first (read from
 *   id 0), or to another reconciler once idle for `claimIdleMs` (XAUTOCLAIM).
 *   Delivery is therefore at least once; the reconciler dedupes by record id.
 * - Within one instance a record is handed out once unless released;
 *   released and recovered records go out again first, in stream order.
 * - `scan` reads with XRANGE, outside the group: it leases, claims and
 *   deletes nothing, and sees leased entries too.
 */
import type { Lease } from '../../src/contracts/spool.js';
import type { Envelope } from '../../src/envelope/types.js';
import { ClosedError, ConfigError, SpoolCorruptError, ValidationError } from '../../src/errors/index.js';
import { connectionContext, createRedisClient, redisSpoolIdFor, waitReady, type RedisClient } from './redis-connection.js';
import { ACK_SCRIPT, APPEND_SCRIPT, encodeEntry, type SpoolEntry } from './redis-entries.js';
import { classifyRedisError, isNoGroup, type RedisErrorContext } from './redis-errors.js';
import { compareStreamIds, spoolKeys, type RedisSpoolKeys } from './redis-keys.js';
import { planDurability, readPersistence, type DurabilityPlan } from './redis-persistence.js';
import { autoClaim, rangeAfter, readGroup, type GroupRead, type ReadContext } from './redis-reads.js';
import { resolveOptions, type RedisSpool, type RedisSpoolOptions, type ResolvedRedisSpoolOptions } from './redis-spool-options.js';
import { confirmDurability, ensureGroup, slotNode } from './redis-setup.js';

export type { RedisSpool, RedisSpoolOptions } from './redis-spool-options.js';

interface ScriptClient {
  spillwayAppend(stream: string, bytes: string, ...args: Array<string | number | Buffer>): Promise<number>;
  spillwayAck(stream: string, bytes: string, ...args: string[]): Promise<number>;
}

/** Entries per XRANGE of a scan. */
const SCAN_PAGE = 500;
const EMPTY_LEASE: Lease = Object.freeze({ envelopes: Object.freeze([]) });
const openSpools = new Set<string>();

/** Target id of a spool: `redis:<host>:<port>/<stream key>`. */
export function redisSpoolId(url: string, keyPrefix = 'spillway'): string {
  return redisSpoolIdFor(url, keyPrefix);
}

/**
 * Open a Redis spool. Waits up to `connectTimeoutMs` for the server; when it
 * does not answer, the spool opens anyway and its operations fail with
 * TransientError until the server comes back (it reconnects by itself).
 * A refused password or a second open spool with the same consumer name in
 * this process is a ConfigError.
 */
export async function createRedisSpool(options: RedisSpoolOptions, field = 'spool'): Promise<RedisSpool> {
  const resolved = resolveOptions(options, field);
  redisSpoolIdFor(resolved.url, resolved.keyPrefix, `${field}.url`);
  const spool = new RedisSpoolImpl(resolved, field);
  await spool.start();
  return spool;
}

class RedisSpoolImpl implements RedisSpool {
  readonly id: string;
  readonly key: string;
  readonly consumer: string;
  durability: DurabilityPlan | undefined;
  private readonly keys: RedisSpoolKeys;
  private readonly client: RedisClient;
  private readonly reads: ReadContext;
  private setup: Promise<void> | undefined;
  private lastWarning: string | undefined;
  private closed = false;
  private readonly inflight = new Set<Promise<unknown>>();
  /** Entries this instance holds: leased (out) or queued (released/recovered, to go out first). */
  private readonly held = new Map<string, 'leased' | 'queued'>();
  private queue: SpoolEntry[] = [];
  private recovered = false;
  private lastClaim = Number.NEGATIVE_INFINITY;
  private readonly leases = new WeakMap<Lease, SpoolEntry[]>();
  /** Entries that do not decode, already reported. */
  private readonly corrupt = new Set<string>();

  constructor(
    private readonly options: ResolvedRedisSpoolOptions,
    private readonly field: string,
  ) {
    this.keys = spoolKeys(options.keyPrefix);
    this.key = this.keys.stream;
    this.id = redisSpoolId(options.url, options.keyPrefix);
    this.consumer = options.consumer;
    this.client = createRedisClient(options);
    this.client.defineCommand('spillwayAppend', { numberOfKeys: 2, lua: APPEND_SCRIPT });
    this.client.defineCommand('spillwayAck', { numberOfKeys: 2, lua: ACK_SCRIPT });
    this.reads = { client: this.client, keys: this.keys, consumer: this.consumer, where: `redis spool ${this.id}`, ...(options.cipher ? { cipher: options.cipher } : {}) };
    this.client.on('error', (error: Error) => this.options.logger?.debug({ spool: this.id, err: error.message }, 'Redis spool connection error.'));
    this.client.on('close', () => {
      this.setup = undefined;
    });
  }

  async start(): Promise<void> {
    const slot = `${this.id}|${this.consumer}`;
    if (openSpools.has(slot)) {
      await this.client.quit().catch(() => this.client.disconnect());
      throw new ConfigError(`${this.field}.consumer: a Redis spool ${this.id} with consumer "${this.consumer}" is already open in this process; give each instance its own consumer name`, {
        field: `${this.field}.consumer`,
      });
    }
    try {
      await waitReady(this.client, this.options.connectTimeoutMs ?? 2_000);
      await this.ready();
    } catch (error) {
      if (/NOAUTH|WRONGPASS|NOPERM/.test((error as Error).message)) {
        this.client.disconnect();
        throw new ConfigError(`${this.field}.url: the Redis server at ${this.id} refused the credentials (${(error as Error).message}); fix the user or password in the url`, {
          field: `${this.field}.url`,
          cause: error,
        });
      }
      this.options.logger?.warn({ spool: this.id, err: (error as Error).message }, 'Redis spool is not reachable at start; it will fail over until the server answers.');
    }
    openSpools.add(slot);
  }

  async append(batch: readonly Envelope[]): Promise<void> {
    this.assertOpen();
    if (batch.length === 0) return;
    const work = this.doAppend(batch);
    this.inflight.add(work);
    try {
      await work;
    } finally {
      this.inflight.delete(work);
    }
  }

  private async doAppend(batch: readonly Envelope[]): Promise<void> {
    const operation = `append of ${batch.length} records`;
    await this.ready(operation);
    const entries = batch.map((e) => encodeEntry(e, this.options.cipher));
    const size = entries.reduce((n, e) => n + e.bytes, 0);
    const args = entries.flatMap((e) => e.args);
    try {
      await (this.client as unknown as ScriptClient).spillwayAppend(this.keys.stream, this.keys.bytes, this.options.maxBytes, size, ...args);
    } catch (error) {
      throw this.fail(error, { operation, sent: true, maxBytes: this.options.maxBytes });
    }
    await confirmDurability(this.client, this.keys.stream, this.durability, this.options, { spool: this.id, operation, field: `${this.field}.url` });
  }

  async lease(max: number): Promise<Lease> {
    this.assertOpen();
    if (!Number.isSafeInteger(max) || max < 0) throw new ValidationError(`lease(max) needs a whole number of records >= 0, got ${String(max)}`);
    if (max === 0) return EMPTY_LEASE;
    await this.ready('lease');
    try {
      if (!this.recovered) await this.recoverOwnPending();
      if (this.queue.length < max) await this.claimIdle(max - this.queue.length);
      const taken = this.queue.splice(0, max);
      if (taken.length < max) {
        try {
          taken.push(...this.adopt(await this.readFresh(max - taken.length)));
        } catch (error) {
          this.enqueue(taken); // nothing handed out: they go out first next time
          throw error;
        }
      }
      if (taken.length === 0) return EMPTY_LEASE;
      for (const entry of taken) this.held.set(entry.id, 'leased');
      const lease: Lease = Object.freeze({ envelopes: Object.freeze(taken.map((e) => e.envelope)) });
      this.leases.set(lease, taken);
      return lease;
    } catch (error) {
      this.recovered = false; // a timed-out read or claim may still have run on the server: re-read our pending list first
      throw this.fail(error, { operation: `lease of ${max}`, sent: false });
    }
  }

  private async readFresh(count: number): Promise<GroupRead> {
    try {
      return await readGroup(this.reads, '>', count);
    } catch (error) {
      if (!isNoGroup(error)) throw error;
      await ensureGroup(this.client, this.keys);
      return readGroup(this.reads, '>', count);
    }
  }

  /** This consumer's pending entries from before (a crash or close): queued to go out first. */
  private async recoverOwnPending(): Promise<void> {
    for (let from = '0'; ; ) {
      const read = await readGroup(this.reads, from, 500);
      this.enqueue(this.adopt(read).filter((e) => !this.held.has(e.id)));
      if (read.lastId === undefined) break;
      from = read.lastId;
    }
    this.recovered = true;
  }

  /** Take over entries another consumer left idle for claimIdleMs (it died, presumably). */
  private async claimIdle(count: number): Promise<void> {
    const now = this.options.now();
    if (now - this.lastClaim < this.options.claimEveryMs) return;
    this.lastClaim = now;
    const read = await autoClaim(this.reads, this.options.claimIdleMs, count);
    const fresh = this.adopt(read).filter((e) => !this.held.has(e.id));
    if (fresh.length > 0) this.options.logger?.warn({ spool: this.id, consumer: this.consumer, records: fresh.length }, 'Redis spool took over records another reconciler left pending.');
    this.enqueue(fresh);
  }

  /** Acknowledge gone ids, report corrupt ones, return the decoded entries. */
  private adopt(read: GroupRead): SpoolEntry[] {
    if (read.gone.length > 0) void this.runAck(read.gone).catch(() => undefined);
    const fresh = read.corrupt.filter((c) => !this.corrupt.has(c.id));
    if (fresh.length > 0) {
      // Said once per entry and process; the entry stays pending (never deleted unread) and is skipped after.
      const first = fresh[0]!;
      for (const c of fresh) this.corrupt.add(c.id);
      this.enqueue(read.entries.filter((e) => !this.held.has(e.id)));
      throw first.error instanceof SpoolCorruptError ? first.error : new SpoolCorruptError(first.error.message, { target: this.id, cause: first.error });
    }
    return read.entries;
  }

  private enqueue(entries: readonly SpoolEntry[]): void {
    if (entries.length === 0) return;
    for (const entry of entries) this.held.set(entry.id, 'queued');
    this.queue = [...this.queue, ...entries].sort((a, b) => compareStreamIds(a.id, b.id));
  }

  async ack(lease: Lease): Promise<void> {
    this.assertOpen();
    const entries = this.claimLease(lease, 'acknowledge');
    if (entries.length === 0) return;
    await this.ready('ack');
    try {
      await this.runAck(entries.map((e) => e.id));
    } catch (error) {
      throw this.fail(error, { operation: `ack of ${entries.length} records`, sent: true });
    }
    this.leases.delete(lease);
    for (const entry of entries) this.held.delete(entry.id);
  }

  private runAck(ids: readonly string[]): Promise<number> {
    return (this.client as unknown as ScriptClient).spillwayAck(this.keys.stream, this.keys.bytes, this.keys.group, ...ids);
  }

  async release(lease: Lease): Promise<void> {
    this.assertOpen();
    const entries = this.claimLease(lease, 'release');
    this.leases.delete(lease);
    this.enqueue(entries);
  }

  async stats(): Promise<{ records: number; bytes: number }> {
    this.assertOpen();
    await this.ready('stats');
    try {
      const [records, bytes] = await Promise.all([this.client.xlen(this.keys.stream), this.client.get(this.keys.bytes)]);
      return { records, bytes: Math.max(0, Number(bytes ?? 0)) };
    } catch (error) {
      throw this.fail(error, { operation: 'stats', sent: false });
    }
  }

  /**
   * Visit every entry not yet acknowledged, leased or not, in stream order,
   * without leasing it: XRANGE in pages of {@link SCAN_PAGE} (acknowledged
   * entries are XDEL'd, so the stream holds exactly the others). Entries that
   * do not decode are skipped: the lease that meets them reports them.
   */
  async scan(visit: (envelope: Envelope) => void, signal?: AbortSignal): Promise<void> {
    this.assertOpen();
    signal?.throwIfAborted();
    await this.ready('scan');
    for (let after: string | undefined; ; ) {
      let page: GroupRead;
      try {
        page = await rangeAfter(this.reads, after, SCAN_PAGE);
      } catch (error) {
        throw this.fail(error, { operation: `scan${after === undefined ? '' : ` after ${after}`}`, sent: false });
      }
      for (const entry of page.entries) visit(entry.envelope);
      if (page.lastId === undefined || page.entries.length + page.corrupt.length < SCAN_PAGE) return;
      after = page.lastId;
      signal?.throwIfAborted();
      this.assertOpen();
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await Promise.allSettled([...this.inflight]);
    openSpools.delete(`${this.id}|${this.consumer}`);
    await this.client.quit().catch(() => this.client.disconnect());
  }

  /** Classify a failure of this spool's `operation`, with the url's field and the last connection error for an unreachable server. */
  private fail(error: unknown, context: Pick<RedisErrorContext, 'operation' | 'sent' | 'maxBytes'>): Error {
    return classifyRedisError(error, { spool: this.id, field: `${this.field}.url`, ...context, ...connectionContext(this.client) });
  }

  private assertOpen(): void {
    if (this.closed) throw new ClosedError(`spool ${this.id} is closed`, { target: this.id });
  }

  private claimLease(lease: Lease, verb: string): SpoolEntry[] {
    if (lease.envelopes.length === 0) return [];
    const entries = this.leases.get(lease);
    if (entries === undefined) throw new ValidationError(`cannot ${verb} this lease: spool ${this.id} did not hand it out, or it was already acknowledged or released`);
    return entries;
  }

  /** Read the server's persistence and make sure the group exists; once per connection. */
  private ready(operation = 'start'): Promise<void> {
    this.setup ??= this.runSetup().catch((error: unknown) => {
      this.setup = undefined;
      throw this.fail(error, { operation, sent: false });
    });
    return this.setup;
  }

  private async runSetup(): Promise<void> {
    const info = await readPersistence(slotNode(this.client, this.keys.stream));
    const plan = planDurability(this.options.durability, info, this.options.minReplicas);
    this.durability = plan;
    if (plan.warning !== undefined && plan.warning !== this.lastWarning) {
      this.options.logger?.warn({ spool: this.id, durability: plan.level, guarantee: plan.guarantee }, `Redis spool durability: ${plan.warning}.`);
      this.options.onEvent?.({ type: 'durability-warning', spool: this.id, message: plan.warning });
    }
    this.lastWarning = plan.warning;
    await ensureGroup(this.client, this.keys);
  }
}
