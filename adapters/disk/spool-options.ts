/** Public types, defaults and option checks of the disk spool. */
import type { Logger } from 'pino';
import type { SpoolEvent } from '../../src/contracts/descriptor.js';
import type { Spool, SpoolCipher, SpoolStats } from '../../src/contracts/spool.js';
import { ConfigError } from '../../src/errors/index.js';
import { SpoolFullError } from '../../src/errors/spool.js';
import type { SpoolRecoveryInfo } from './recovery.js';

/** Options for `createDiskSpool`. */
export interface DiskSpoolOptions {
  /** Directory holding the spool; created with mode 0700. One process per directory. */
  dir: string;
  /** Most bytes of not-yet-drained records on disk. Default 1 GiB. */
  maxBytes?: number;
  /** A segment file is rotated once the next append would take it past this. Default 8 MiB. */
  maxSegmentBytes?: number;
  /** Spool id; defaults to `disk:<absolute dir>`. */
  id?: string;
  /** Called once on open when the directory held records or a torn tail was cut off. */
  onRecovered?: (info: SpoolRecoveryInfo) => void;
  /** Called after every fdatasync of a segment. */
  onSync?: () => void;
  /**
   * What an append does when the records would take the spool past
   * `maxBytes`, or the filesystem is full: `'reject'` (default) fails it at
   * once with a SpoolFullError; `'block'` waits for room (acknowledged
   * records, freed disk space) up to `blockTimeoutMs`, then fails the same way.
   * Nothing is ever dropped or evicted.
   */
  whenFull?: 'block' | 'reject';
  /** Longest an append waits for room with `whenFull: 'block'`. Default 30,000 ms. */
  blockTimeoutMs?: number;
  /** Encrypts records at rest (see `src/crypto/spool-cipher.ts`). A spool written with a key must be opened with it. */
  cipher?: SpoolCipher;
  /** Receives spool events: quarantined damage. */
  onEvent?: (event: SpoolEvent) => void;
  /** Where damage and recovery are logged. Default: a pino logger on stderr at level `warn`. */
  logger?: Logger;
}

/** {@link SpoolStats} plus what the disk spool knows about its files. */
export interface DiskSpoolStats extends SpoolStats {
  /** Segment files on disk. */
  segments: number;
  /** Bytes in segment files, acknowledged records awaiting deletion included. */
  diskBytes: number;
  /** Bytes counted against `maxBytes`: everything past the acknowledged prefix, plus appends in flight. */
  usedBytes: number;
  maxBytes: number;
  /** fdatasync calls on segments since open. */
  syncs: number;
}

/** A {@link Spool} on local disk. */
export interface DiskSpool extends Spool {
  readonly dir: string;
  /** What opening the directory found. */
  readonly recovery: SpoolRecoveryInfo;
  stats(): Promise<DiskSpoolStats>;
}

/** Default `maxBytes`: 1 GiB. */
export const DEFAULT_SPOOL_MAX_BYTES = 1024 * 1024 * 1024;
/** Default `blockTimeoutMs`: 30 s. */
export const DEFAULT_BLOCK_TIMEOUT_MS = 30_000;
/** Default `maxSegmentBytes`: 8 MiB. */
export const DEFAULT_SEGMENT_BYTES = 8 * 1024 * 1024;

/** Validate options; returns the directory. Throws {@link ConfigError} naming the field. */
export function checkSpoolOptions(options: DiskSpoolOptions): string {
  if (typeof options?.dir !== 'string' || options.dir.length === 0) {
    throw new ConfigError('spool.dir is required: the directory where the disk spool keeps its files', { field: 'spool.dir' });
  }
  for (const field of ['maxBytes', 'maxSegmentBytes'] as const) {
    const value = options[field];
    if (value !== undefined && (!Number.isSafeInteger(value) || value <= 0)) {
      throw new ConfigError(`spool.${field} must be a positive whole number of bytes, got ${String(value)}`, { field: `spool.${field}` });
    }
  }
  if (options.whenFull !== undefined && options.whenFull !== 'block' && options.whenFull !== 'reject') {
    throw new ConfigError(`spool.whenFull must be 'block' or 'reject', got ${JSON.stringify(options.whenFull)}`, { field: 'spool.whenFull' });
  }
  const timeout = options.blockTimeoutMs;
  if (timeout !== undefined && (!Number.isSafeInteger(timeout) || timeout < 0)) {
    throw new ConfigError(`spool.blockTimeoutMs must be a whole number of milliseconds >= 0, got ${String(timeout)}`, { field: 'spool.blockTimeoutMs' });
  }
  return options.dir;
}

/** The error for an append that does not fit under `maxBytes`; says how full the spool is and what to do. */
export function spoolFullError(
  spool: { id: string; dir: string; maxBytes: number },
  batch: { count: number; size: number; used: number; waitedMs?: number },
): SpoolFullError {
  const { dir, maxBytes, id } = spool;
  const { count, size, used, waitedMs } = batch;
  if (size > maxBytes) {
    return new SpoolFullError(
      `a batch of ${count} records takes ${size} bytes in spool ${dir}, more than spool.maxBytes (${maxBytes}) even when empty; ` +
        `nothing was written. Raise spool.maxBytes or send smaller batches`,
      { spool: id, reason: 'too-large' },
    );
  }
  const percent = ((used / maxBytes) * 100).toFixed(1);
  const waited = waitedMs === undefined ? '' : ` after waiting ${waitedMs} ms for room (spool.whenFull 'block', spool.blockTimeoutMs)`;
  return new SpoolFullError(
    `spool ${dir} is full: ${used} of ${maxBytes} bytes (spool.maxBytes, ${percent}%) hold records not yet drained, ` +
      `and a batch of ${count} records needs ${size} more; nothing of it was written${waited}. ` +
      `Raise spool.maxBytes, or let the reconciler drain the spool once a target is healthy`,
    { spool: id, reason: waitedMs === undefined ? 'max-bytes' : 'timeout' },
  );
}