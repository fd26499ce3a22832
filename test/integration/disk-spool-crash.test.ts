/**
 * Crash safety of the disk spool against a real process killed with SIGKILL
 * at random points: 50 rounds by default, SPILLWAY_SOAK=1 for 500.
 *
 * The child (test/helpers/spool-child.ts) is bundled to plain ESM once and
 * started with this same node binary, so SIGKILL hits the writer itself and
 * each start costs little. (SIGKILL keeps the page cache, so these rounds
 * cannot catch a missing fdatasync; test/unit/disk-spool-fsync.test.ts does.)
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDiskSpool, type SpoolRecoveryInfo } from '../../adapters/disk/index.js';
import type { Envelope } from '../../src/envelope/types.js';
import { bundleChild, type ChildCommand } from '../helpers/spool-bundle.js';
import { crashRecord, parseCrashRecordId } from '../helpers/spool-crash-records.js';
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

interface RoundOutput {
  stored: string[];
  leased: string[];
  consumed: string[];
}

/** Run one child until it has reported `minStored` appends, wait `delayMs`, SIGKILL it. */
async function runChildRound(dir: string, round: number, minStored: number, delayMs: number): Promise<RoundOutput> {
  const proc = spawn(process.execPath, [...child.args, dir, String(round), String(CHILD_SEGMENT_BYTES)], { stdio: ['ignore', 'pipe', 'pipe'] });
  const exited = once(proc, 'exit');
  const lines = createInterface({ input: proc.stdout });
  const closed = once(lines, 'close');
  let stderr = '';
  proc.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const output: RoundOutput = { stored: [], leased: [], consumed: [] };
  const enough = new Promise<void>((resolve) => {
    lines.on('line', (line) => {
      const [verb, id] = line.split(' ');
      if (verb === 'stored' && id !== undefined) output.stored.push(id);
      if (verb === 'leased' && id !== undefined) output.leased.push(id);
      if (verb === 'consumed' && id !== undefined) output.consumed.push(id);
      if (output.stored.length >= minStored) resolve();
    });
  });
  const early = exited.then(() => {
    throw new Error(`child exited before it stored ${minStored} records: ${stderr}`);
  });
  const deadline = AbortSignal.timeout(30_000);
  const late = once(deadline, 'abort').then(() => {
    throw new Error(`child stored only ${output.stored.length} of ${minStored} records in 30 s: ${stderr}`);
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
  return output;
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

/** Crash one directory `rounds` times in a row, checking after each crash. */
async function crashLane(lane: number, rounds: number): Promise<{ consumed: number }> {
  const { dir, cleanup } = await makeTempDir(`crash-${lane}`);
  const stored = new Set<string>();
  const leased = new Set<string>();
  const consumed = new Set<string>();
  try {
    for (let i = 0; i < rounds; i += 1) {
      const round = lane * 10_000 + i;
      const out = await runChildRound(dir, round, 20 + Math.floor(Math.random() * 100), Math.floor(Math.random() * 20));
      out.stored.forEach((id) => stored.add(id));
      out.leased.forEach((id) => leased.add(id));
      out.consumed.forEach((id) => consumed.add(id));
      expect(out.stored.length).toBeGreaterThanOrEqual(20);

      const { envelopes } = await readBack(dir);
      const ids = envelopes.map((e) => e.id);
      const present = new Set(ids);
      expect(present.size).toBe(ids.length);
      for (const envelope of envelopes) expect(plain(envelope)).toEqual(plain(crashRecord(envelope.id)));
      // Stored and never leased: must be there. Leased but not reported consumed: its ack may have landed.
      for (const id of stored) if (!leased.has(id)) expect(present.has(id), `acknowledged ${id} is missing after round ${round}`).toBe(true);
      for (const id of consumed) expect(present.has(id), `consumed ${id} came back after round ${round}`).toBe(false);
      expectAppendOrder(ids);
    }
    return { consumed: consumed.size };
  } finally {
    await cleanup();
  }
}

describe('disk spool under SIGKILL', () => {
  it(`keeps every acknowledged append and never returns an acknowledged lease, over ${ROUNDS} crashes`, async () => {
    const lanes = await Promise.all(Array.from({ length: LANES }, (_, lane) => crashLane(lane, Math.ceil(ROUNDS / LANES))));
    for (const lane of lanes) expect(lane.consumed).toBeGreaterThan(0);
  }, 600_000);
});
