/**
 * Crash safety of the disk spool against a real process killed with SIGKILL
 * at random points: 50 rounds by default, SPILLWAY_SOAK=1 for 500.
 *
 * The child (test/helpers/spool-child.ts) is bundled to plain ESM once and
 * started with this same node binary, so SIGKILL hits the writer itself and
 * each start costs little. (SIGKILL keeps the page cache, so these rounds
 * cannot catch a missing fdatasync; test/unit/disk-spool-fsync.test.ts does.)
 *
 * What the child did is taken from its journal file, never from its stdout:
 * a line printed to a pipe the parent has not drained yet is queued inside
 * the child and dies with it, and a lost `leased` line whose ack landed looks
 * exactly like a lost record. The last test makes that case happen on purpose.
 */
import { spawn, type ChildProcessByStdio } from 'node:child_process';
import { once } from 'node:events';
import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { createInterface } from 'node:readline';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDiskSpool, type SpoolRecoveryInfo } from '../../adapters/disk/index.js';
import type { Envelope } from '../../src/envelope/types.js';
import { bundleChild, type ChildCommand } from '../helpers/spool-bundle.js';
import { waitFor } from '../helpers/emulators.js';
import { crashRecord, parseChildJournal, parseCrashRecordId, type ChildReport } from '../helpers/spool-crash-records.js';
import { makeTempDir, plain } from '../helpers/spool-fixtures.js';
import { watchSpool } from '../helpers/spool-log.js';

const ROUNDS = process.env.SPILLWAY_SOAK === '1' ? 500 : 50;
/** Independent spool directories crashed side by side; each sees ROUNDS / LANES crashes in a row. */
const LANES = 3;

const CHILD_SEGMENT_BYTES = 4_096;

const childFile = new URL('../helpers/spool-child.ts', import.meta.url).pathname;
let child: ChildCommand;

beforeAll(async () => {
  child = await bundleChild(childFile);
  if (child.note !== undefined) console.warn(child.note);
});
afterAll(() => child.cleanup());

/** Start one child on the spool in `dir`, writing its report to `journal`. */
function spawnChild(dir: string, round: number, journal: string): ChildProcessByStdio<null, Readable, Readable> {
  return spawn(process.execPath, [...child.args, dir, String(round), String(CHILD_SEGMENT_BYTES), journal], { stdio: ['ignore', 'pipe', 'pipe'] });
}

/**
 * Run one child until its stdout shows `minStored` appends, wait `delayMs`,
 * SIGKILL it, and return its report. stdout is progress only: lines the
 * child still had queued for it die with the child. The report comes from
 * the journal, whose every line was written before the step after it began.
 */
async function runChildRound(dir: string, journal: string, round: number, minStored: number, delayMs: number): Promise<ChildReport> {
  const proc = spawnChild(dir, round, journal);
  const exited = once(proc, 'exit');
  const lines = createInterface({ input: proc.stdout });
  const closed = once(lines, 'close');
  let stderr = '';
  proc.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  let stored = 0;
  const enough = new Promise<void>((resolve) => {
    lines.on('line', (line) => {
      if (line.startsWith('stored ')) stored += 1;
      if (stored >= minStored) resolve();
    });
  });
  const early = exited.then(() => {
    throw new Error(`child exited before it stored ${minStored} records: ${stderr}`);
  });
  const deadline = AbortSignal.timeout(30_000);
  const late = once(deadline, 'abort').then(() => {
    throw new Error(`child stored only ${stored} of ${minStored} records in 30 s: ${stderr}`);
  });
  try {
    await Promise.race([enough, early, late]);
  } catch (error) {
    proc.kill('SIGKILL');
    throw error;
  }
  early.catch(() => undefined);
  late.catch(() => undefined);
  await new Promise((resolve) => setTimeout(resolve, delayMs)); // a random crash point, not synchronisation
  proc.kill('SIGKILL');
  const [, signal] = await exited;
  expect(signal).toBe('SIGKILL');
  await closed;
  return parseChildJournal(await readFile(journal, 'utf8'));
}

/** Open the spool, lease everything it holds (without acking), close it. */
async function readBack(dir: string): Promise<{ envelopes: Envelope[]; info: SpoolRecoveryInfo }> {
  const watch = watchSpool();
  const spool = await createDiskSpool({ dir, maxSegmentBytes: CHILD_SEGMENT_BYTES, logger: watch.logger, onEvent: watch.onEvent });
  const envelopes: Envelope[] = [];
  try {
    for (let lease = await spool.lease(500); lease.envelopes.length > 0; lease = await spool.lease(500)) envelopes.push(...lease.envelopes);
    // A crash leaves at most a torn tail: never damage.
    expect(watch.events).toEqual([]);
    return { envelopes, info: spool.recovery };
  } finally {
    await spool.close();
  }
}

/** Records come back in append order: rounds never go backwards, each writer's seqs only go up. */
function expectAppendOrder(ids: readonly string[]): void {
  let lastRound = -1;
  const lastSeq = new Map<string, number>();
  for (const id of ids) {
    const { round, writer, seq } = parseCrashRecordId(id);
    expect(round).toBeGreaterThanOrEqual(lastRound);
    lastRound = round;
    const key = `${round}/${writer}`;
    expect(seq).toBeGreaterThan(lastSeq.get(key) ?? -1);
    lastSeq.set(key, seq);
  }
}

/** What the children of one spool directory reported, over all its rounds so far. */
interface Tally {
  readonly stored: Set<string>;
  readonly leased: Set<string>;
  readonly consumed: Set<string>;
}

function newTally(): Tally {
  return { stored: new Set(), leased: new Set(), consumed: new Set() };
}

function addReport(tally: Tally, report: ChildReport): void {
  report.stored.forEach((id) => tally.stored.add(id));
  report.leased.forEach((id) => tally.leased.add(id));
  report.consumed.forEach((id) => tally.consumed.add(id));
}

/** Read the spool back after a crash and hold it against everything the children reported. */
async function checkSpool(dir: string, tally: Tally, round: number): Promise<void> {
  const { envelopes } = await readBack(dir);
  const ids = envelopes.map((e) => e.id);
  const present = new Set(ids);
  expect(present.size).toBe(ids.length);
  for (const envelope of envelopes) expect(plain(envelope)).toEqual(plain(crashRecord(envelope.id)));
  // Stored and never leased: must be there. Leased but not reported consumed: its ack may have landed.
  for (const id of tally.stored) if (!tally.leased.has(id)) expect(present.has(id), `acknowledged ${id} is missing after round ${round}`).toBe(true);
  for (const id of tally.consumed) expect(present.has(id), `consumed ${id} came back after round ${round}`).toBe(false);
  expectAppendOrder(ids);
}

/** Crash one directory `rounds` times in a row, checking after each crash. */
async function crashLane(lane: number, rounds: number): Promise<{ consumed: number }> {
  const { dir: base, cleanup } = await makeTempDir(`crash-${lane}`);
  const dir = join(base, 'spool');
  const tally = newTally();
  try {
    for (let i = 0; i < rounds; i += 1) {
      const round = lane * 10_000 + i;
      const journal = join(base, `round-${round}.log`);
      const report = await runChildRound(dir, journal, round, 20 + Math.floor(Math.random() * 100), Math.floor(Math.random() * 20));
      addReport(tally, report);
      expect(report.stored.length).toBeGreaterThanOrEqual(20);
      await checkSpool(dir, tally, round);
    }
    return { consumed: tally.consumed.size };
  } finally {
    await cleanup();
  }
}

/** Bytes of report after which the child's stdout, never read, has certainly filled its pipe (64 KiB by default). */
const STALLED_REPORT_BYTES = 512 * 1024;

/** Count `consumed` lines in the journal from byte `from` on. */
async function consumedAfter(journal: string, from: number): Promise<number> {
  const text = (await readFile(journal)).subarray(from).toString('utf8');
  return text.split('\n').filter((line) => line.startsWith('consumed ')).length;
}

/** The journal's size once it has reached `bytes`, else undefined. */
async function journalBytesOnceAtLeast(journal: string, bytes: number): Promise<number | undefined> {
  const size = (await stat(journal).catch(() => undefined))?.size ?? 0;
  return size >= bytes ? size : undefined;
}

/** The rest of a killed child's stdout. */
async function drain(stream: Readable): Promise<number> {
  let bytes = 0;
  for await (const chunk of stream) bytes += (chunk as Buffer).length;
  return bytes;
}

describe('disk spool under SIGKILL', () => {
  it(`keeps every acknowledged append and never returns an acknowledged lease, over ${ROUNDS} crashes`, async () => {
    const lanes = await Promise.all(Array.from({ length: LANES }, (_, lane) => crashLane(lane, Math.ceil(ROUNDS / LANES))));
    for (const lane of lanes) expect(lane.consumed).toBeGreaterThan(0);
  }, 600_000);

  it('keeps the report of every lease when the child dies with report lines still queued for its stdout', async () => {
    const { dir: base, cleanup } = await makeTempDir('crash-stalled');
    const dir = join(base, 'spool');
    const journal = join(base, 'round.log');
    // stdout is never read while the child runs: its pipe fills and the child queues what it prints after that.
    const proc = spawnChild(dir, 1, journal);
    proc.stdout.pause();
    const exited = once(proc, 'exit');
    try {
      const mark = await waitFor(async () => journalBytesOnceAtLeast(journal, STALLED_REPORT_BYTES), {
        timeoutMs: 60_000,
        message: `the child to report ${STALLED_REPORT_BYTES} bytes`,
      });
      // Acks that landed while their `leased` lines sat in the child's stdout queue.
      await waitFor(async () => (await consumedAfter(journal, mark)) >= 50, { timeoutMs: 60_000, message: 'the child to consume 50 more records' });
      proc.kill('SIGKILL');
      const [, signal] = await exited;
      expect(signal).toBe('SIGKILL');
      const report = parseChildJournal(await readFile(journal, 'utf8'));
      // The kill did take lines queued for stdout with it; the journal kept them.
      expect(await drain(proc.stdout)).toBeLessThan(mark);
      const tally = newTally();
      addReport(tally, report);
      await checkSpool(dir, tally, 1);
    } finally {
      proc.kill('SIGKILL');
      await cleanup();
    }
  }, 180_000);
});
