/**
 * Durable disk spool appends against a raw group-commit writer, on the same
 * disk (BENCH_DIR or the OS temp dir), in one run, at 1, 16 and 256
 * concurrent producers.
 *
 * Each producer appends one ~1 KiB record at a time and awaits it before the
 * next (a `send` that waits for durability). The baseline writes the very
 * same bytes the spool writes (the encoded envelope, framed with length and
 * CRC-32 exactly as the spool frames it) with group commit by hand: every
 * record that arrives while a `writev` + `fdatasync` is in flight goes into
 * the next single `writev` + `fdatasync`, and its promise resolves after it.
 * Envelopes are stamped and encoded before the clock starts on both sides;
 * framing (CRC-32) is timed on both. Every writer gets a fresh directory and
 * writes one record before the clock starts. Rounds are interleaved (order
 * rotates every round); medians and ratios are reported, with the
 * fdatasync count of each side (the spool's through `stats().syncs`).
 *
 *   npx tsx bench/spool-append.ts
 *   BENCH_SPOOL_RECORDS=4096 BENCH_SPOOL_ROUNDS=5 BENCH_SPOOL_RECORD_BYTES=1024 BENCH_SPOOL_PRODUCERS=1,16,256 BENCH_DIR=/path
 */
import { open, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { crc32 } from 'node:zlib';
import { fsyncDir } from '../adapters/disk/fs-util.js';
import { createDiskSpool, type DiskSpool } from '../adapters/disk/index.js';
import { createStamper, encodeEnvelope, type Envelope } from '../src/envelope/index.js';
import { envInt, fmt, makeTempDir, median, quietLogger, ratio, removeTempDir, rotate, runIfMain, table, timeLimitMs, watchdog } from './lib.js';

/** Sizes for one run; each defaults from the environment. */
export interface SpoolAppendOptions {
  /** Records per run (split evenly over the producers). */
  records: number;
  rounds: number;
  /** Payload bytes per record. */
  recordBytes: number;
  producers: readonly number[];
}

/** Options from BENCH_* environment variables. */
export function optionsFromEnv(): SpoolAppendOptions {
  const producers = (process.env.BENCH_SPOOL_PRODUCERS ?? '1,16,256').split(',').map((p) => Number(p.trim()));
  if (producers.some((p) => !Number.isSafeInteger(p) || p <= 0)) throw new Error(`BENCH_SPOOL_PRODUCERS must list positive whole numbers, got ${process.env.BENCH_SPOOL_PRODUCERS}`);
  return {
    records: envInt('BENCH_SPOOL_RECORDS', 4_096),
    rounds: envInt('BENCH_SPOOL_ROUNDS', envInt('BENCH_ROUNDS', 5)),
    recordBytes: envInt('BENCH_SPOOL_RECORD_BYTES', 1_024),
    producers,
  };
}

interface Sample {
  ms: number;
  records: number;
  syncs: number;
  /** This process's CPU time (user + system) over the timed region, microseconds. */
  cpuUs: number;
}

/** Time `run` on the wall clock and in this process's CPU time. */
async function measure(run: () => Promise<void>): Promise<{ ms: number; cpuUs: number }> {
  const cpu = process.cpuUsage();
  const started = performance.now();
  await run();
  const ms = performance.now() - started;
  const used = process.cpuUsage(cpu);
  return { ms, cpuUs: used.user + used.system };
}

/** Frame one payload as the spool does: u32 length, u32 CRC-32, payload. */
function frame(payload: Uint8Array): Buffer {
  const out = Buffer.allocUnsafe(8 + payload.length);
  out.writeUInt32BE(payload.length, 0);
  out.writeUInt32BE(crc32(payload), 4);
  out.set(payload, 8);
  return out;
}

/** The baseline: group commit by hand over one file. */
class RawGroupCommit {
  private queue: Array<{ buf: Buffer; resolve: () => void }> = [];
  private busy = false;
  syncs = 0;
  constructor(private readonly handle: FileHandle) {}

  append(payload: Uint8Array): Promise<void> {
    return new Promise((resolve) => {
      this.queue.push({ buf: frame(payload), resolve });
      if (!this.busy) void this.flush();
    });
  }

  private async flush(): Promise<void> {
    this.busy = true;
    while (this.queue.length > 0) {
      const group = this.queue;
      this.queue = [];
      let bufs = group.map((g) => g.buf);
      while (bufs.length > 0) {
        let { bytesWritten } = await this.handle.writev(bufs);
        while (bufs.length > 0 && bytesWritten >= (bufs[0] as Buffer).length) bytesWritten -= (bufs.shift() as Buffer).length;
        if (bufs.length > 0) bufs[0] = (bufs[0] as Buffer).subarray(bytesWritten);
      }
      await this.handle.datasync();
      this.syncs += 1;
      for (const g of group) g.resolve();
    }
    this.busy = false;
  }
}

/** `producers` loops, each appending its share of `items` one at a time. */
async function produce<T>(items: readonly T[], producers: number, append: (item: T) => Promise<void>): Promise<void> {
  const per = Math.ceil(items.length / producers);
  await Promise.all(
    Array.from({ length: producers }, async (_, p) => {
      for (let i = p * per; i < Math.min(items.length, (p + 1) * per); i += 1) await append(items[i] as T);
    }),
  );
}

async function runRaw(root: string, envelopes: readonly Envelope[], producers: number): Promise<Sample> {
  const dir = await makeTempDir('raw-', root);
  const handle = await open(join(dir, 'baseline.log'), 'ax', 0o600);
  try {
    await fsyncDir(dir);
    const writer = new RawGroupCommit(handle);
    await writer.append(encodeEnvelope(envelopes[0] as Envelope));
    const payloads = envelopes.slice(1).map((e) => encodeEnvelope(e));
    const syncsBefore = writer.syncs;
    const { ms, cpuUs } = await measure(() => produce(payloads, producers, (p) => writer.append(p)));
    return { ms, cpuUs, records: payloads.length, syncs: writer.syncs - syncsBefore };
  } finally {
    await handle.close();
    await removeTempDir(dir);
  }
}

async function runSpool(root: string, envelopes: readonly Envelope[], producers: number): Promise<Sample> {
  const dir = await makeTempDir('spool-', root);
  let spool: DiskSpool | undefined;
  try {
    spool = await createDiskSpool({ dir, logger: quietLogger });
    const s = spool;
    await s.append([envelopes[0] as Envelope]);
    const rest = envelopes.slice(1);
    const before = await s.stats();
    const { ms, cpuUs } = await measure(() => produce(rest, producers, (e) => s.append([e])));
    const after = await s.stats();
    if (after.records - before.records !== rest.length) throw new Error(`spool holds ${after.records - before.records} new records, expected ${rest.length}`);
    return { ms, cpuUs, records: rest.length, syncs: after.syncs - before.syncs };
  } finally {
    await spool?.close();
    await removeTempDir(dir);
  }
}

/** Run the benchmark and print its table. */
export async function main(options: SpoolAppendOptions = optionsFromEnv()): Promise<{ ok: boolean }> {
  const disarm = watchdog('spool-append', timeLimitMs());
  let root: string | undefined;
  try {
    const { records, rounds, recordBytes, producers } = options;
    root = await makeTempDir('spillway-bench-spool-');
    console.log(`spool-append: ${fmt(records)} records of ${recordBytes} B payload per run, producers ${producers.join('/')}, ${rounds} rounds, dir ${root}`);
    const stamp = createStamper();
    let serial = 0;
    // Fresh envelopes per run, encoded before the clock starts (encodeEnvelope memoises per envelope).
    const envelopesOf = (n: number): Envelope[] =>
      Array.from({ length: n + 1 }, () => {
        const e = stamp({ partitionKey: `key-${serial % 64}`, data: Buffer.alloc(recordBytes, serial++ % 251) });
        encodeEnvelope(e);
        return e;
      });
    const steps = producers.flatMap((p) => [
      { key: `raw-${p}`, run: () => runRaw(root as string, envelopesOf(records), p) },
      { key: `spool-${p}`, run: () => runSpool(root as string, envelopesOf(records), p) },
    ]);
    const samples = new Map<string, Sample[]>(steps.map((s) => [s.key, []]));
    for (let round = 0; round < rounds; round += 1) for (const step of rotate(steps, round)) samples.get(step.key)?.push(await step.run());
    const rate = (s: Sample): number => (s.records / s.ms) * 1000;
    const med = (key: string): number => median((samples.get(key) ?? []).map(rate));
    const syncs = (key: string): number => median((samples.get(key) ?? []).map((s) => s.syncs));
    const cpu = (key: string): number => median((samples.get(key) ?? []).map((s) => s.cpuUs / s.records));
    const rows = producers.flatMap((p) => [
      [`raw group commit, ${p} producer(s)`, fmt(med(`raw-${p}`)), (samples.get(`raw-${p}`) ?? []).map((s) => fmt(rate(s))).join(' / '), fmt(syncs(`raw-${p}`)), fmt(cpu(`raw-${p}`), 1), '1.00x'],
      [
        `spool.append([1]), ${p} producer(s)`,
        fmt(med(`spool-${p}`)),
        (samples.get(`spool-${p}`) ?? []).map((s) => fmt(rate(s))).join(' / '),
        fmt(syncs(`spool-${p}`)),
        fmt(cpu(`spool-${p}`), 1),
        ratio(med(`spool-${p}`), med(`raw-${p}`)),
      ],
    ]);
    console.log(
      table(
        `Durable appends (records/s: median of ${rounds} interleaved rounds of ${fmt(records)} records)`,
        ['method', 'median rec/s', 'per round', 'fdatasyncs', 'CPU us/rec', 'vs raw'],
        rows,
      ),
    );
    console.log(
      table(
        'Ratios (spool / raw group commit): median records/s, and median CPU per record',
        ['producers', 'records/s', 'CPU per record'],
        producers.map((p) => [String(p), ratio(med(`spool-${p}`), med(`raw-${p}`)), ratio(cpu(`spool-${p}`), cpu(`raw-${p}`))]),
      ),
    );
    return { ok: true };
  } finally {
    disarm();
    if (root !== undefined) await removeTempDir(root);
  }
}

runIfMain(import.meta.url, () => main());
