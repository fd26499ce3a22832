/** Public types, defaults and option checks of the disk spool. */
import type { Spool, SpoolStats } from '../../src/contracts/spool.js';
import { ConfigError, SpoolFullError } from '../../src/errors/index.js';
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
  /** Called after every fdatasync of a segment (tests count these to see group commit). */
  onSync?: () => void;
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
  return options.dir;
}

/** The error for an append that does not fit under `maxBytes`; says how full the spool is and what to do. */
export function spoolFullError(dir: string, maxBytes: number, batch: { count: number; size: number; used: number }): SpoolFullError {
  const { count, size, used } = batch;
  if (size > maxBytes) {
    return new SpoolFullError(
      `a batch of ${count} records takes ${size} bytes in spool ${dir}, more than spool.maxBytes (${maxBytes}) even when empty; ` +
        `nothing was written. Raise spool.maxBytes or send smaller batches`,
    );
  }
  const percent = ((used / maxBytes) * 100).toFixed(1);
  return new SpoolFullError(
    `spool ${dir} is full: ${used} of ${maxBytes} bytes (${percent}%) hold records not yet drained, ` +
      `and a batch of ${count} records needs ${size} more; nothing of it was written. ` +
      `Raise spool.maxBytes, or let the reconciler drain the spool once a target is healthy`,
  );
}
