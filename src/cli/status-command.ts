/**
 * `spillway status --config FILE [--json]`: what a bus on this host is doing,
 * read from the status file a running bus writes (`<stateDir>/status.json`)
 * plus what the spool directory and lock files say by themselves, so a
 * stopped bus's leftovers are still shown.
 */
import { readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { Command } from 'commander';
import type { BusConfig } from '../config/schema.js';
import { findConfigFile, loadConfig } from '../config/load.js';
import { parseBusConfig } from '../config/parse.js';
import { spoolDirsOf, stateDirOf } from '../config/state-dir.js';
import { describeFsError } from '../../adapters/disk/fs-util.js';
import { STATUS_FILE, type StatusSnapshot } from '../observability/status-file.js';

/** A lock file's holder. */
export interface LockHolder {
  pid: number;
  running: boolean;
}

/** Everything `spillway status` prints. */
export interface StatusReport {
  statusFile: string;
  /** `running`: a live process wrote the file recently; `stale`: the writer is gone or silent; `absent`: no bus has written one. */
  bus: 'running' | 'stale' | 'absent';
  snapshot?: StatusSnapshot;
  spoolDir: { path: string; segments: number; diskBytes: number; oldestSegmentAt?: string; lock?: LockHolder; problem?: string };
  /** The process holding the reconciler's checkpoints (the drain lease), if any. */
  reconcilerLease?: LockHolder;
}

/** Find, read and validate the configuration (`--config`, `SPILLWAY_CONFIG` or ./spillway.config.*). */
export async function loadConfigFile(file: string | undefined): Promise<BusConfig> {
  return parseBusConfig(await loadConfig(await findConfigFile(file)));
}

/** Gather the report for the bus configured by `config`. `now` is for tests. */
export async function readStatus(config: BusConfig, now = Date.now()): Promise<StatusReport> {
  const stateDir = stateDirOf(config);
  const statusFile = join(stateDir, STATUS_FILE);
  const snapshot = await readJson<StatusSnapshot>(statusFile);
  let bus: StatusReport['bus'] = 'absent';
  if (snapshot) {
    const fresh = now - Date.parse(snapshot.writtenAt) <= 3 * snapshot.intervalMs + 1_000;
    bus = fresh && isAlive(snapshot.pid) ? 'running' : 'stale';
  }
  const lease = await lockHolder(join(stateDir, 'checkpoints', 'checkpoints.lock'));
  return {
    statusFile,
    bus,
    ...(snapshot ? { snapshot } : {}),
    spoolDir: await spoolDirStats(spoolDirsOf(config)[0] ?? stateDir),
    ...(lease ? { reconcilerLease: lease } : {}),
  };
}

async function spoolDirStats(dir: string): Promise<StatusReport['spoolDir']> {
  let problem: string | undefined;
  const entries = await readdir(dir).catch((error: NodeJS.ErrnoException) => {
    // Absent is normal before a bus first spools; anything else is a spool no bus can use.
    if (error.code === 'ENOTDIR') problem = `${dir} is not a directory; point spool.dir at a directory`;
    else if (error.code !== 'ENOENT') problem = `${dir} cannot be read (${describeFsError(error)}); a bus cannot use it either`;
    return [] as string[];
  });
  const names = entries.filter((n) => /^\d{20}\.seg$/.test(n)).sort();
  let diskBytes = 0;
  let oldest: number | undefined;
  for (const name of names) {
    const s = await stat(join(dir, name)).catch(() => undefined);
    if (!s) continue;
    diskBytes += s.size;
    oldest = Math.min(oldest ?? s.mtimeMs, s.mtimeMs);
  }
  const lock = await lockHolder(join(dir, 'LOCK'));
  return {
    path: dir,
    segments: names.length,
    diskBytes,
    ...(oldest !== undefined ? { oldestSegmentAt: new Date(oldest).toISOString() } : {}),
    ...(lock ? { lock } : {}),
    ...(problem ? { problem } : {}),
  };
}

async function lockHolder(path: string): Promise<LockHolder | undefined> {
  const text = await readFile(path, 'utf8').catch(() => undefined);
  const pid = Number.parseInt(text?.trim() ?? '', 10);
  return Number.isInteger(pid) && pid > 0 ? { pid, running: isAlive(pid) } : undefined;
}

async function readJson<T>(path: string): Promise<T | undefined> {
  const text = await readFile(path, 'utf8').catch(() => undefined);
  if (text === undefined) return undefined;
  try {
    return JSON.parse(text) as T;
  } catch {
    return undefined; // written atomically, so only a foreign file gets here; treated as absent
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

const STATE_WORD = { closed: 'closed', open: 'OPEN', halfOpen: 'half-open' } as const;

/** The report as aligned plain text. */
export function formatStatus(r: StatusReport): string {
  const out: string[] = [];
  const s = r.snapshot;
  if (r.bus === 'absent') out.push(`No running bus has written ${r.statusFile}: no bus with this configuration has run here since the status file existed. Spool and locks below are read from disk.`);
  else if (r.bus === 'stale') out.push(`The bus that wrote ${r.statusFile} (pid ${s?.pid}) is not running or stopped writing; last written ${s?.writtenAt}. What follows is its last state.`);
  else out.push(`Bus running: pid ${s?.pid}, started ${s?.startedAt}, status written ${s?.writtenAt}.`);
  if (s) {
    out.push('', rows(['target', 'tier', 'breaker', 'since'], s.breakers.filter((b) => b.tier !== 'spool').map((b) => [b.target, b.tier, STATE_WORD[b.state], b.since])));
    const fallback = Object.entries(s.fallbackRecords);
    if (fallback.length > 0) out.push('', rows(['fallback target', 'records since start'], fallback.map(([t, n]) => [t, String(n)])));
    out.push('', rows(['event', 'when', 'detail'], [
      ['last failover', s.lastFailover?.at ?? 'never', s.lastFailover ? `${s.lastFailover.from} -> ${s.lastFailover.to}: ${s.lastFailover.reason}` : ''],
      ['last failback', s.lastFailback?.at ?? 'never', s.lastFailback?.target ?? ''],
      ['last drain', s.lastDrain?.at ?? 'never', s.lastDrain ? `written ${s.lastDrain.written}, duplicates ${s.lastDrain.skippedDuplicates}, coalesced ${s.lastDrain.coalesced}${s.lastDrain.error ? `, stopped: ${s.lastDrain.error}` : ''}` : ''],
    ]));
  }
  const d = r.spoolDir;
  const lock = (l?: LockHolder) => (l ? `pid ${l.pid}${l.running ? '' : ' (not running)'}` : 'none');
  out.push('', rows(['spool', 'records', 'bytes', 'oldest record', 'segments', 'disk bytes', 'lock'], [[
    d.path,
    s ? String(s.spool.records) : 'unknown',
    s ? String(s.spool.bytes) : 'unknown',
    s?.spool.oldestRecordAt ?? d.oldestSegmentAt ?? 'none',
    String(d.segments),
    String(d.diskBytes),
    lock(d.lock),
  ]]));
  if (d.problem) out.push(`PROBLEM: ${d.problem}`);
  out.push('', `Reconciler lease (checkpoints lock): ${lock(r.reconcilerLease)}${s?.reconciling ? '; a drain is running' : ''}`);
  return `${out.join('\n')}\n`;
}

function rows(headers: readonly string[], body: ReadonlyArray<readonly string[]>): string {
  const widths = headers.map((h, i) => Math.max(h.length, ...body.map((r) => (r[i] ?? '').length)));
  const line = (cells: readonly string[]) => cells.map((c, i) => c.padEnd(widths[i] ?? 0)).join('  ').trimEnd();
  return [line(headers), widths.map((w) => '-'.repeat(w)).join('  '), ...body.map(line)].join('\n');
}

/** `spillway status`. */
export function statusCommand(): Command {
  return new Command('status')
    .description('Show breaker states, spool depth, last failover and failback and the drain lease of the bus configured by FILE')
    .option('-c, --config <file>', 'the configuration the bus was started with (YAML or JSON; default $SPILLWAY_CONFIG or ./spillway.config.*)')
    .option('--json', 'print the report as JSON')
    .action(async (opts: { config?: string; json?: boolean }) => {
      const report = await readStatus(await loadConfigFile(opts.config));
      process.stdout.write(opts.json ? `${JSON.stringify(report, null, 2)}\n` : formatStatus(report));
      if (report.spoolDir.problem) process.exitCode = 1;
    });
}
