/**
 * Disk spool appends against hand-written `fs.promises` appends, on the same
 * disk (BENCH_DIR or the OS temp dir), in one run.
 *
 * - A: one record, then fdatasync, N times, sequentially: raw FileHandle vs `spool.append([envelope])`;
 * - B: 500 records in one write, then one fdatasync, repeated: raw vs `spool.append(batch of 500)`;
 *   a second raw baseline writes the very bytes the spool writes (envelopes encoded beforehand);
 * - C: N single-record appends issued at once (group commit), against both baselines.
 *
 * The raw baseline frames each record as the spool does (length + CRC-32)
 * around the bare JSON payload; the spool also writes spillway's envelope
 * header, so it writes more bytes per record (shown as "disk B/rec").
 * Envelopes are stamped and payloads serialised before the clock starts, on
 * both sides; framing, CRC and envelope encoding are inside the timed region.
 * Every writer gets a fresh directory and writes one record before the clock
 * starts (file creation and the directory fsync are not timed on either side).
 *
 *   npx tsx bench/spool-append.ts
 *   BENCH_SPOOL_RECORDS=2000 BENCH_SPOOL_BATCHES=100 BENCH_SPOOL_ROUNDS=5 (else BENCH_ROUNDS) BENCH_PAYLOAD_BYTES=200 BENCH_DIR=/path/on/disk
 */
import { open } from 'node:fs/promises';
import { join } from 'node:path';
import { crc32 } from 'node:zlib';
import { fsyncDir } from '../adapters/disk/fs-util.js';
import { createDiskSpool, type DiskSpool } from '../adapters/disk/index.js';
import { createStamper, encodeEnvelope, type Envelope } from '../src/envelope/index.js';
import { envInt, fmt, jsonBytes, jsonPayload, makeTempDir, median, ratio, removeTempDir, rotate, runIfMain, table, timeLimitMs, watchdog } from './lib.js';

/** Sizes for one run; each defaults from the environment. */
export interface SpoolAppendOptions {
  /** Records for A and C. */
  records: number;
  /** Batches of 500 for B. */
  batches: number;
  rounds: number;
  payloadBytes: number;
}

const BATCH = 500;

/** Options from BENCH_* environment variables. */
export function optionsFromEnv(): SpoolAppendOptions {
  return {
    records: envInt('BENCH_SPOOL_RECORDS', 2_000),
    batches: envInt('BENCH_SPOOL_BATCHES', 100),
    rounds: envInt('BENCH_SPOOL_ROUNDS', envInt('BENCH_ROUNDS', 5)),
    payloadBytes: envInt('BENCH_PAYLOAD_BYTES', 200),
  };
}

type Step = 'rawA' | 'spoolA' | 'rawB' | 'rawBenv' | 'spoolB' | 'spoolC';

/** One timed run of one step. */
interface Sample {
  ms: number;
  records: number;
  payloadBytes: number;
  diskBytes: number;
  syncs: number;
}

/** Frame records as the spool does: u32 length, u32 CRC-32, payload. */
function frame(payloads: readonly Buffer[]): Buffer {
  const out = Buffer.allocUnsafe(payloads.reduce((sum, p) => sum + 8 + p.length, 0));
  let at = 0;
  for (const p of payloads) {
    out.writeUInt32BE(p.length, at);
    out.writeUInt32BE(crc32(p), at + 4);
    p.copy(out, at + 8);
    at += 8 + p.length;
  }
  return out;
}

/** Raw baseline: `groups` writes of `perGroup` records, each followed by one fdatasync. */
async function runRaw(root: string, payloads: readonly Buffer[], perGroup: number): Promise<Sample> {
  const dir = await makeTempDir('raw-', root);
  const handle = await open(join(dir, 'baseline.log'), 'ax', 0o600);
  try {
    await fsyncDir(dir);
    await handle.write(frame([payloads[0] as Buffer]));
    await handle.datasync();
    let diskBytes = 0;
    let syncs = 0;
    const started = performance.now();
    for (let from = 0; from < payloads.length; from += perGroup) {
      const buf = frame(payloads.slice(from, from + perGroup));
      let written = 0;
      while (written < buf.length) written += (await handle.write(buf, written)).bytesWritten;
      await handle.datasync();
      diskBytes += buf.length;
      syncs += 1;
    }
    const ms = performance.now() - started;
    return { ms, records: payloads.length, payloadBytes: payloads.reduce((s, p) => s + p.length, 0), diskBytes, syncs };
  } finally {
    await handle.close();
    await removeTempDir(dir);
  }
}

/** Candidate: a fresh disk spool; `mode` says how the envelopes are appended. */
async function runSpool(root: string, envelopes: readonly Envelope[], warm: Envelope, mode: 'sequential-single' | 'batches' | 'concurrent-single'): Promise<Sample> {
  const dir = await makeTempDir('spool-', root);
  let spool: DiskSpool | undefined;
  try {
    spool = await createDiskSpool({ dir });
    await spool.append([warm]);
    const before = await spool.stats();
    const started = performance.now();
    if (mode === 'sequential-single') {
      for (const e of envelopes) await spool.append([e]);
    } else if (mode === 'batches') {
      for (let from = 0; from < envelopes.length; from += BATCH) await spool.append(envelopes.slice(from, from + BATCH));
    } else {
      const s = spool;
      await Promise.all(envelopes.map((e) => s.append([e])));
    }
    const ms = performance.now() - started;
    const after = await spool.stats();
    if (after.records - before.records !== envelopes.length) {
      throw new Error(`spool holds ${after.records - before.records} new records, expected ${envelopes.length}`);
    }
    return {
      ms,
      records: envelopes.length,
      payloadBytes: envelopes.reduce((s, e) => s + e.data.length, 0),
      diskBytes: after.bytes - before.bytes,
      syncs: after.syncs - before.syncs,
    };
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
    const { records, batches, rounds, payloadBytes } = options;
    root = await makeTempDir('spillway-bench-spool-');
    console.log(`spool-append: A/C ${fmt(records)} records, B ${batches} x ${BATCH} records, ${rounds} rounds, ~${payloadBytes} B JSON, dir ${root}`);
    const stamp = createStamper();
    let serial = 0;
    const objects = (n: number) => Array.from({ length: n }, () => jsonPayload(serial++, payloadBytes));
    const bytesOf = (n: number) => Array.from({ length: n }, () => jsonBytes(serial++, payloadBytes));
    // Fresh envelopes per run: the envelope codec memoises encodings per envelope object.
    const envelopesOf = (n: number): Envelope[] => objects(n).map((data, i) => stamp({ partitionKey: `key-${i % 64}`, data }));
    const steps: Record<Step, () => Promise<Sample>> = {
      rawA: () => runRaw(root as string, bytesOf(records), 1),
      spoolA: () => runSpool(root as string, envelopesOf(records), envelopesOf(1)[0] as Envelope, 'sequential-single'),
      rawB: () => runRaw(root as string, bytesOf(batches * BATCH), BATCH),
      // The same bytes as the spool writes (encoded envelopes, encoded before the clock starts): isolates the
      // spool's own machinery from the cost of the envelope header.
      rawBenv: () => runRaw(root as string, envelopesOf(batches * BATCH).map((e) => Buffer.from(encodeEnvelope(e))), BATCH),
      spoolB: () => runSpool(root as string, envelopesOf(batches * BATCH), envelopesOf(1)[0] as Envelope, 'batches'),
      spoolC: () => runSpool(root as string, envelopesOf(records), envelopesOf(1)[0] as Envelope, 'concurrent-single'),
    };
    const samples: Record<Step, Sample[]> = { rawA: [], spoolA: [], rawB: [], rawBenv: [], spoolB: [], spoolC: [] };
    for (let round = 0; round < rounds; round += 1) {
      for (const step of rotate(['rawA', 'spoolA', 'rawB', 'rawBenv', 'spoolB', 'spoolC'] as const, round)) samples[step].push(await steps[step]());
    }

    const rate = (s: Sample): number => (s.records / s.ms) * 1000;
    const med = (step: Step): number => median(samples[step].map(rate));
    const mbps = (step: Step, field: 'payloadBytes' | 'diskBytes'): number => median(samples[step].map((s) => (s[field] / s.ms) * 1000 / 1_048_576));
    const row = (label: string, step: Step, vs: string): string[] => {
      const first = samples[step][0] as Sample;
      return [
        label,
        fmt(med(step)),
        samples[step].map((s) => fmt(rate(s))).join(' / '),
        fmt(first.diskBytes / first.records),
        fmt(mbps(step, 'payloadBytes'), 2),
        fmt(mbps(step, 'diskBytes'), 2),
        fmt(median(samples[step].map((s) => s.syncs))),
        vs,
      ];
    };
    console.log(
      table(
        `Spool appends (records/s and MB/s: median of ${rounds} interleaved rounds; MB = 2^20 bytes)`,
        ['method', 'median rec/s', 'per round', 'disk B/rec', 'payload MB/s', 'disk MB/s', 'fdatasyncs', 'vs baseline'],
        [
          row(`A raw: write 1 frame + fdatasync, x${fmt(records)}`, 'rawA', '1.00x'),
          row(`A spool.append([1]) awaited, x${fmt(records)}`, 'spoolA', ratio(med('spoolA'), med('rawA'))),
          row(`B raw: write ${BATCH} frames + fdatasync, x${batches}`, 'rawB', '1.00x'),
          row(`B raw, envelope bytes pre-encoded, x${batches}`, 'rawBenv', ratio(med('rawBenv'), med('rawB'))),
          row(`B spool.append(${BATCH}) awaited, x${batches}`, 'spoolB', ratio(med('spoolB'), med('rawB'))),
          row(`C spool.append([1]) x${fmt(records)} concurrent`, 'spoolC', `${ratio(med('spoolC'), med('rawA'))} vs A raw`),
        ],
      ),
    );
    console.log(
      table(
        'Ratios (candidate / baseline, records/s)',
        ['comparison', 'ratio'],
        [
          ['A: spool single append / raw write+fdatasync', ratio(med('spoolA'), med('rawA'))],
          ['B: spool 500-record append / raw 500-frame write+fdatasync', ratio(med('spoolB'), med('rawB'))],
          ['B: spool 500-record append / raw write of the same envelope bytes', ratio(med('spoolB'), med('rawBenv'))],
          ['C: spool concurrent single appends / raw A (per-record fdatasync)', ratio(med('spoolC'), med('rawA'))],
          ['C: spool concurrent single appends / raw B (ideal 500-batching)', ratio(med('spoolC'), med('rawB'))],
          ['C fdatasyncs for ' + fmt(records) + ' appends (median)', fmt(median(samples.spoolC.map((s) => s.syncs)))],
        ],
      ),
    );
    return { ok: true };
  } finally {
    if (root !== undefined) await removeTempDir(root);
    disarm();
  }
}

runIfMain(import.meta.url, () => main());
