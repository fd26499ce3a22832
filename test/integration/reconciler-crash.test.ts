/**
 * A drain killed with SIGKILL at a random moment, then resumed by a new
 * process: every spooled record reaches the primary stream exactly once.
 * Real parts throughout: a kinesalite process, a disk spool with its dedupe
 * journal and write intent on real files, a child process and SIGKILL.
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { describe, expect, it } from 'vitest';
import { createBus } from '../../src/bus/create-bus.js';
import { findFreePort } from '../../src/drill/emulators.js';
import { FAKE_CREDENTIALS, readAllRecords } from '../../src/drill/kinesis-admin.js';
import { decodeEnvelope } from '../../src/envelope/index.js';
import { silentLogger } from '../helpers/bus-parts.js';
import { useKinesisEmulator, waitFor } from '../helpers/emulators.js';

const RECORDS = 1_500;
/** Crash rounds: 20 in CI; SPILLWAY_SOAK=1 runs 200. */
const ROUNDS = process.env.SPILLWAY_SOAK ? 200 : 20;
const child = new URL('../helpers/drain-child.ts', import.meta.url).pathname;

describe('reconciler crash', () => {
  const kinesis = useKinesisEmulator('kinesalite');

  /** Spool RECORDS records while the primary is unreachable; returns their ids. */
  async function fillSpool(dir: string, stream: string): Promise<string[]> {
    const dead = await findFreePort();
    const bus = await createBus(
      { primary: { kind: 'kinesis', region: 'us-east-1', stream, endpoint: `http://127.0.0.1:${dead}`, credentials: FAKE_CREDENTIALS }, spool: { kind: 'disk', dir }, reconciler: { enabled: false } },
      { logger: silentLogger },
    );
    const results = await bus.sendBatch(Array.from({ length: RECORDS }, (_, i) => ({ partitionKey: `k${i % 16}`, data: { i } })));
    expect(results.every((r) => r.ok && r.landedOn.tier === 'spool')).toBe(true);
    await bus.close();
    return results.map((r) => (r.ok ? r.id : ''));
  }

  /** Start the draining child, SIGKILL it `delayMs` after its first progress line; returns what it reported. */
  async function drainAndKill(stream: string, dir: string, delayMs: number): Promise<number> {
    const proc = spawn(process.execPath, ['--import', 'tsx', child, kinesis.endpoint, stream, dir, '2000'], { stdio: ['ignore', 'pipe', 'pipe'] });
    const exited = once(proc, 'exit');
    let stderr = '';
    proc.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    let written = 0;
    let finished = false;
    const started = new Promise<void>((resolve) => {
      createInterface({ input: proc.stdout }).on('line', (line) => {
        if (line === 'done') finished = true;
        const m = /^progress (\d+)$/.exec(line);
        if (m) {
          written = Number(m[1]);
          resolve();
        }
      });
    });
    await Promise.race([started, exited.then(() => Promise.reject(new Error(`drain child exited early: ${stderr}`)))]);
    await new Promise((r) => setTimeout(r, delayMs)); // the random moment of the crash, not a synchronisation
    proc.kill('SIGKILL');
    await exited;
    expect(finished).toBe(false);
    return written;
  }

  /** One round: fill a spool, SIGKILL a drain of it at a random moment, resume, and check every record landed once. */
  async function crashRound(): Promise<void> {
    const dir = await mkdtemp(join(tmpdir(), 'spillway-drain-crash-'));
    try {
      const stream = await kinesis.createStream(2);
      const ids = await fillSpool(dir, stream);
      const before = await drainAndKill(stream, dir, Math.floor(Math.random() * 150));
      expect(before).toBeLessThan(RECORDS);

      const bus = await createBus(
        { primary: { kind: 'kinesis', region: 'us-east-1', stream, endpoint: kinesis.endpoint, credentials: FAKE_CREDENTIALS }, spool: { kind: 'disk', dir }, reconciler: { enabled: false, maxRecordsPerSecond: 1e5, maxBytesPerSecond: 1e9, uncertainSettleMs: 200 } },
        { logger: silentLogger },
      );
      try {
        await waitFor(async () => {
          const s = await bus.reconcile();
          return !s.error && s.written === 0 && (await bus.stats()).spool.records === 0;
        }, { timeoutMs: 30_000, intervalMs: 50, message: 'the resumed drain' });
      } finally {
        await bus.close();
      }
      const stored = (await readAllRecords(kinesis.client, stream)).map((r) => decodeEnvelope(r.data).id);
      const counts = new Map<string, number>();
      for (const id of stored) counts.set(id, (counts.get(id) ?? 0) + 1);
      expect(ids.filter((id) => counts.get(id) !== 1)).toEqual([]);
      expect(stored).toHaveLength(RECORDS);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }

  it(`resumes after SIGKILL at a random moment and writes every record exactly once (${ROUNDS} rounds)`, async () => {
    // Rounds are independent (own stream, own spool); four at a time, since most of a round is waiting.
    for (let round = 0; round < ROUNDS; round += 4) {
      await Promise.all(Array.from({ length: Math.min(4, ROUNDS - round) }, () => crashRound()));
    }
  }, 600_000);
});
