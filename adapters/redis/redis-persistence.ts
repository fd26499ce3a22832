/**
 * What the Redis server keeps on disk, and what each `durability` level can
 * therefore promise on it. Read on every (re)connect; a level the server
 * cannot honour is said through the logger and a `durability-warning` event.
 *
 * | durability | append resolves after | survives |
 * |---|---|---|
 * | `write` | the server applied it (in memory) | a client crash; a server crash only as far as its AOF/RDB settings go |
 * | `aof` | Redis ≥ 7.2: `WAITAOF 1 0` confirmed the local AOF fsync. Older: the write, on a server with `appendfsync always` (it fsyncs before replying) | a server crash or power loss (AOF on disk) |
 * | `replicas` | `WAIT <minReplicas>` confirmed that many replicas received it | the loss of the primary node (replicated in memory) |
 */
import type { Redis } from 'ioredis';

/** How `append` confirms durability. */
export type Durability = 'write' | 'aof' | 'replicas';

/** What the server told us about itself. */
export interface PersistenceInfo {
  /** `redis_version`, e.g. `[7, 0, 15]`. */
  readonly version: readonly [number, number, number];
  readonly aofEnabled: boolean;
  /** `appendfsync`, when CONFIG GET is allowed (not on ElastiCache). */
  readonly appendfsync?: string;
  /** The `save` schedule (`''` = no RDB snapshots), when CONFIG GET is allowed. */
  readonly save?: string;
  readonly connectedReplicas: number;
}

/** How appends are confirmed on this server, and what that guarantees. */
export interface DurabilityPlan {
  readonly level: Durability;
  /** The command run after each append's write. */
  readonly confirm: 'none' | 'waitaof' | 'wait';
  /** One sentence: what a resolved append guarantees on this server. */
  readonly guarantee: string;
  /** Set when the server keeps less than the level asks, or nothing at all. */
  readonly warning?: string;
}

/** Read the server's persistence settings (INFO always; CONFIG GET when allowed). */
export async function readPersistence(redis: Redis): Promise<PersistenceInfo> {
  const info = parseInfo(String(await redis.info()));
  const version = (info.redis_version ?? '0.0.0').split('.').map((p) => Number.parseInt(p, 10) || 0);
  const base = {
    version: [version[0] ?? 0, version[1] ?? 0, version[2] ?? 0] as const,
    aofEnabled: info.aof_enabled === '1',
    connectedReplicas: Number.parseInt(info.connected_slaves ?? '0', 10) || 0,
  };
  try {
    const pairs = (await redis.call('CONFIG', 'GET', 'appendfsync', 'save')) as string[];
    const config = Object.fromEntries(chunkPairs(pairs));
    return { ...base, appendfsync: config.appendfsync, save: config.save };
  } catch {
    return base; // CONFIG is renamed or disabled (ElastiCache, ACLs): INFO alone tells whether AOF is on
  }
}

/** Decide how appends are confirmed for `level` on a server that reported `info`. */
export function planDurability(level: Durability, info: PersistenceInfo, minReplicas = 1): DurabilityPlan {
  const hasWaitAof = info.version[0] > 7 || (info.version[0] === 7 && info.version[1] >= 2);
  const disk = diskSentence(info);
  if (level === 'replicas') {
    const short = info.connectedReplicas < minReplicas;
    return {
      level,
      confirm: 'wait',
      guarantee: `an append resolves once ${minReplicas} replica(s) acknowledged it (WAIT); ${disk.sentence}`,
      ...(short
        ? { warning: `durability 'replicas' asks for ${minReplicas} replica(s) but the server has ${info.connectedReplicas} connected: every append will fail until they connect; ${disk.sentence}` }
        : disk.warning === undefined ? {} : { warning: disk.warning }),
    };
  }
  if (level === 'write') return { level, confirm: 'none', guarantee: `an append resolves once the server applied it in memory; ${disk.sentence}`, ...(disk.warning === undefined ? {} : { warning: disk.warning }) };
  if (info.aofEnabled && hasWaitAof) return { level, confirm: 'waitaof', guarantee: 'an append resolves once WAITAOF confirmed the server fsync\'d it to its append-only file' };
  if (info.aofEnabled && info.appendfsync === 'always') {
    return { level, confirm: 'none', guarantee: `an append resolves after the server fsync'd it to its append-only file (appendfsync always; Redis ${info.version.join('.')} has no WAITAOF)` };
  }
  const aofWarning = info.aofEnabled
    ? `durability 'aof' on Redis ${info.version.join('.')} (no WAITAOF) with appendfsync ${info.appendfsync ?? 'unknown (CONFIG GET is not allowed)'}: ` +
      `an acknowledged append reaches the AOF within about a second; a server crash or power loss can lose the last second of records. ` +
      `Set appendfsync always, or use Redis 7.2 or newer`
    : `durability 'aof' cannot be met: the server runs with appendonly no; ${disk.sentence}. Set appendonly yes (and appendfsync always), or use durability 'write' knowingly`;
  return { level, confirm: 'none', guarantee: `an append resolves once the server applied it in memory; ${disk.sentence}`, warning: disk.warning === undefined ? aofWarning : `${disk.warning}. ${aofWarning}` };
}

function diskSentence(info: PersistenceInfo): { sentence: string; warning?: string } {
  if (info.aofEnabled) return { sentence: `the server keeps an append-only file (appendfsync ${info.appendfsync ?? 'unknown'})` };
  if (info.save === '') {
    return {
      sentence: 'the server keeps nothing on disk',
      warning: 'the Redis server keeps nothing on disk (appendonly no, no RDB save schedule): a Redis restart loses every spooled record',
    };
  }
  if (info.save === undefined) {
    return { sentence: 'the server keeps no append-only file', warning: 'the Redis server keeps no append-only file (appendonly no) and CONFIG GET is not allowed: at best periodic RDB snapshots survive a restart' };
  }
  return { sentence: `the server keeps only RDB snapshots (save "${info.save}")`, warning: `the Redis server keeps only periodic RDB snapshots (save "${info.save}"), no append-only file: a restart loses records spooled since the last snapshot` };
}

function parseInfo(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of text.split(/\r?\n/)) {
    const at = line.indexOf(':');
    if (at > 0 && !line.startsWith('#')) out[line.slice(0, at)] = line.slice(at + 1).trim();
  }
  return out;
}

function chunkPairs(flat: readonly string[]): Array<[string, string]> {
  const out: Array<[string, string]> = [];
  for (let i = 0; i + 1 < flat.length; i += 2) out.push([flat[i] as string, flat[i + 1] as string]);
  return out;
}
