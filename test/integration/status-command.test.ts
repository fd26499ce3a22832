/**
 * `spillway status` as a real child process, reading the status file a real
 * bus (kinesalite behind fault proxies, disk spool) writes while its primary
 * is refused; and what it says when no bus, or a dead one, wrote the file.
 */
import { execFile, spawn } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { readStatus, type StatusReport } from '../../src/cli/status-command.js';
import { parseBusConfig } from '../../src/config/parse.js';
import { attachStatusFile } from '../../src/observability/status-file.js';
import { waitFor } from '../helpers/emulators.js';
import { useTwoRegions } from '../helpers/two-regions.js';

const MAIN = fileURLToPath(new URL('../../src/cli/main.ts', import.meta.url));
const run = promisify(execFile);
const cli = (...args: string[]) => run(process.execPath, ['--import', 'tsx', MAIN, ...args], { timeout: 60_000 });

const dirs: string[] = [];
afterAll(async () => {
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

async function configFile(spoolDir: string, stream = 'orders'): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'spillway-status-cfg-'));
  dirs.push(dir);
  const file = join(dir, 'bus.json');
  const target = (region: string) => ({ kind: 'kinesis', region, stream, endpoint: 'http://127.0.0.1:1' });
  await writeFile(file, JSON.stringify({ primary: target('us-east-1'), secondaries: [target('us-west-2')], spool: { kind: 'disk', dir: spoolDir } }));
  return file;
}

describe('spillway status', () => {
  const regions = useTwoRegions('kinesalite');

  it('shows an open primary breaker, the last failover, fallback counts, spool and lease holders of a running bus', async () => {
    // Failback immediate: every batch tries the primary, so the live writes themselves open its breaker.
    const { bus, spoolDir, stream } = await regions.bus({ failback: { mode: 'immediate' }, breaker: { resetTimeoutMs: 60_000, volumeThreshold: 2 }, reconciler: { enabled: false } });
    const status = attachStatusFile({ path: join(spoolDir, 'state', 'status.json'), events: bus.events, stats: () => bus.stats(), intervalMs: 1_000 });
    try {
      regions.east.proxy.setFault({ mode: 'refuse' });
      for (let i = 0; i < 4; i++) await bus.sendBatch(Array.from({ length: 25 }, (_, j) => ({ partitionKey: `k${j}`, data: { i, j } })));
      await waitFor(async () => (await bus.stats()).breakers[0]?.state === 'open', { timeoutMs: 10_000, message: 'the primary breaker to open' });
      await status.flush();
      const file = await configFile(spoolDir, stream);

      const { stdout } = await cli('status', '--config', file, '--json');
      const report = JSON.parse(stdout) as StatusReport;
      expect(report.bus).toBe('running');
      expect(report.snapshot?.pid).toBe(process.pid);
      const primary = report.snapshot?.breakers.find((b) => b.tier === 'primary');
      expect(primary?.state).toBe('open');
      expect(report.snapshot?.lastFailover).toMatchObject({ from: primary?.target });
      expect(Object.values(report.snapshot?.fallbackRecords ?? {})).toEqual([100]);
      expect(report.spoolDir.lock).toEqual({ pid: process.pid, running: true });
      expect(report.reconcilerLease).toEqual({ pid: process.pid, running: true });

      const table = (await cli('status', '--config', file)).stdout;
      expect(table).toMatch(/^Bus running: pid \d+/);
      expect(table).toMatch(/kinesis:us-east-1:\S+\s+primary\s+OPEN/);
      expect(table).toMatch(/last failover\s+\S+\s+kinesis:us-east-1:\S+ -> kinesis:us-west-2:\S+/);
      expect(table).toContain('Reconciler lease (checkpoints lock): pid');
    } finally {
      regions.east.proxy.setFault({ mode: 'none' });
      await status.close();
    }
  });

  it('says clearly when no bus has written a status file, and when the bus that wrote it is gone', async () => {
    const spoolDir = await mkdtemp(join(tmpdir(), 'spillway-status-empty-'));
    dirs.push(spoolDir);
    const file = await configFile(spoolDir);
    const { stdout } = await cli('status', '--config', file);
    expect(stdout).toMatch(/^No running bus has written .*status\.json/);
    expect(JSON.parse((await cli('status', '--config', file, '--json')).stdout)).toMatchObject({ bus: 'absent' });

    // A status file left by a process that no longer runs.
    const child = spawn(process.execPath, ['-e', '']);
    const deadPid = child.pid as number;
    await new Promise((resolve) => child.once('exit', resolve));
    await mkdir(join(spoolDir, 'state'), { recursive: true });
    const now = Date.now();
    const snapshot = { format: 1, pid: deadPid, startedAt: new Date(now).toISOString(), writtenAt: new Date(now).toISOString(), intervalMs: 5_000, breakers: [], fallbackRecords: {}, spool: { records: 3, bytes: 300 }, queued: 0, reconciling: false };
    await writeFile(join(spoolDir, 'state', 'status.json'), JSON.stringify(snapshot));
    const config = parseBusConfig(JSON.parse(await readFile(file, 'utf8')));
    expect((await readStatus(config, now)).bus).toBe('stale');
    expect((await cli('status', '--config', file)).stdout).toMatch(/^The bus that wrote .* \(pid \d+\) is not running or stopped writing/);
    snapshot.pid = process.pid; // alive, but silent for longer than three refresh periods
    await writeFile(join(spoolDir, 'state', 'status.json'), JSON.stringify(snapshot));
    expect((await readStatus(config, now + 20_000)).bus).toBe('stale');
    expect((await readStatus(config, now + 1_000)).bus).toBe('running');
  });

  it('says so, and exits 1, when the spool dir is not a directory', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'spillway-status-file-'));
    dirs.push(dir);
    const notADir = join(dir, 'spool');
    await writeFile(notADir, 'x');
    const file = await configFile(notADir);
    const failed = await cli('status', '--config', file).then(
      () => undefined,
      (e: { code: number; stdout: string }) => e,
    );
    expect(failed?.code).toBe(1);
    expect(failed?.stdout).toContain(`PROBLEM: ${notADir} is not a directory; point spool.dir at a directory`);
  });

  it('a bad config file or log level is a clear error with exit code 2', async () => {
    const err = await cli('status', '--config', '/nonexistent/bus.json').catch((e: { code: number; stderr: string }) => e);
    expect(err).toMatchObject({ code: 2 });
    expect((err as { stderr: string }).stderr).toMatch(/configuration file \/nonexistent\/bus\.json could not be read/);
    const lvl = await cli('--log-level', 'loud', 'status', '--config', 'x').catch((e: { code: number; stderr: string }) => e);
    expect((lvl as { stderr: string }).stderr).toMatch(/--log-level: unknown log level "loud"; use one of trace, debug, info, warn, error, fatal, silent/);
    expect((await cli('--version')).stdout.trim()).toMatch(/^\d+\.\d+\.\d+/);
  });
});
