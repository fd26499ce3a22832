/**
 * The drain lease holder killed with SIGKILL mid-drain: another producer
 * process takes the lease over after it lapses and finishes the drain from
 * the shared checkpoint; every id, including those of producers that never
 * came back, reaches the primary exactly once. Real parts: two kinesalite
 * regions behind fault proxies, the Redis at 127.0.0.1:6379 (unique key
 * prefixes), two child processes, SIGKILL. Prints the measured takeover time.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { afterAll, describe, expect, it } from 'vitest';
import { ensureStream } from '../../src/drill/kinesis-admin.js';
import { deleteRedisKeys, producerDir, startProducers } from '../helpers/coordinated-producers.js';
import { uniqueName, waitFor } from '../helpers/emulators.js';
import { uniquePrefix } from '../helpers/redis-fixtures.js';
import { idCounts, useTwoRegions } from '../helpers/two-regions.js';

const regions = useTwoRegions('kinesalite');
const cleanup: Array<() => Promise<unknown>> = [];
const prefixes: string[] = [];
afterAll(async () => {
  for (const step of cleanup.reverse()) await step().catch(() => undefined);
  await deleteRedisKeys(prefixes);
});

const PRODUCERS = 3;
const PER_PRODUCER = 300;
const LEASE_MS = 1_500;
const childPath = new URL('../helpers/coordinated-drain-child.ts', import.meta.url).pathname;

interface Child {
  proc: ChildProcess;
  lines: string[];
  exited: Promise<unknown>;
}

function startChild(args: Record<string, string | number>): Child {
  const proc = spawn(process.execPath, ['--import', 'tsx', childPath, JSON.stringify(args)], { stdio: ['ignore', 'pipe', 'pipe'] });
  const child: Child = { proc, lines: [], exited: once(proc, 'exit') };
  createInterface({ input: proc.stdout as NodeJS.ReadableStream }).on('line', (line) => child.lines.push(line));
  let stderr = '';
  proc.stderr?.on('data', (c: Buffer) => (stderr += c.toString()));
  cleanup.push(async () => {
    if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGKILL');
    await child.exited;
    if (stderr.trim()) process.stderr.write(`coordinated drain child said:\n${stderr}\n`);
  });
  return child;
}

const leaseAt = (c: Child): number | undefined => {
  const line = c.lines.find((l) => l.startsWith('lease '));
  return line ? Number(line.slice(6)) : undefined;
};
const progress = (c: Child): number => Math.max(0, ...c.lines.filter((l) => l.startsWith('progress ')).map((l) => Number(l.slice(9))));

describe('coordinated drain takeover', () => {
  it('SIGKILL of the lease holder mid-drain: another process takes over and every id lands once', async () => {
    const stream = uniqueName();
    await Promise.all([ensureStream(regions.east.admin, stream, 2), ensureStream(regions.west.admin, stream, 2)]);
    const coordinationPrefix = `${uniquePrefix('takeover')}:`;
    const dedupePrefix = `${uniquePrefix('takeover-dedupe')}:`;
    prefixes.push(coordinationPrefix, dedupePrefix);

    // Producers that write to the shared secondary during an outage and never come back.
    const buses = await startProducers(regions, PRODUCERS, stream, { coordinationPrefix, dedupePrefix }, []);
    regions.east.proxy.setFault({ mode: 'refuse' });
    const sent: string[] = [];
    for (const [p, bus] of buses.entries()) {
      const results = await bus.sendBatch(Array.from({ length: PER_PRODUCER }, (_, i) => ({ partitionKey: `p${p}-k${i % 7}`, data: { p, i } })));
      expect(results.every((r) => r.ok && r.landedOn.tier === 'secondary')).toBe(true);
      sent.push(...results.map((r) => (r.ok ? r.id : '')));
    }
    for (const bus of buses) await bus.close();
    regions.east.proxy.setFault({ mode: 'none' });

    const base = { east: regions.east.proxy.url, west: regions.west.proxy.url, eastName: regions.east.name, westName: regions.west.name, stream, coordinationPrefix, dedupePrefix, leaseMs: LEASE_MS, pace: 300 };
    const children = [startChild({ ...base, dir: await producerDir(cleanup, 'child-0') }), startChild({ ...base, dir: await producerDir(cleanup, 'child-1') })];
    const killAfter = 50 + Math.floor(Math.random() * 300);
    const holder = await waitFor(async () => children.find((c) => leaseAt(c) !== undefined && progress(c) >= killAfter), {
      timeoutMs: 60_000,
      intervalMs: 10,
      message: 'one child to take the lease and drain part of the backlog',
    });
    holder.proc.kill('SIGKILL');
    const killedAt = Date.now();
    await holder.exited;
    const drainedBeforeKill = progress(holder);
    expect(drainedBeforeKill).toBeLessThan(PRODUCERS * PER_PRODUCER);
    const survivor = children.find((c) => c !== holder) as Child;
    expect(leaseAt(survivor)).toBeUndefined();

    const takenAt = await waitFor(async () => leaseAt(survivor), { timeoutMs: 30_000, intervalMs: 10, message: 'the other child to take the lease over' });
    const takeoverMs = takenAt - killedAt;
    process.stdout.write(`coordination takeover: lease ${LEASE_MS} ms, taken over ${takeoverMs} ms after SIGKILL (holder had written ${drainedBeforeKill})\n`);
    expect(takeoverMs).toBeLessThan(LEASE_MS * 4);

    // A run that wrote, then one that found nothing more (runs already under way at the takeover do not count).
    await waitFor(
      async () => {
        const after = survivor.lines.slice(survivor.lines.findIndex((l) => l.startsWith('lease ')));
        const wrote = after.findIndex((l) => /^done [1-9]/.test(l));
        return wrote >= 0 && after.slice(wrote + 1).some((l) => l === 'done 0');
      },
      { timeoutMs: 60_000, intervalMs: 50, message: 'the new holder to drain the rest' },
    );
    const counts = idCounts(await regions.read(regions.east, stream));
    expect(counts.size).toBe(PRODUCERS * PER_PRODUCER);
    expect(sent.filter((id) => counts.get(id) !== 1)).toEqual([]);
    survivor.proc.kill('SIGTERM');
    await survivor.exited;
  }, 180_000);
});
