import type { LongFormConfigInput } from '../../config/schema.js';
import { ConfigError } from '../../errors/index.js';
import type { Check } from '../checks.js';
import type { SentRecord } from '../load.js';
import type { DrillSettings } from '../scenario-run.js';

/** A lower bound of one record's bytes in the disk spool, so the cap is reached early in the outage. */
const RECORD_BYTES_AT_LEAST = 100;

/** A cap of about a third of what one phase of both-down writes. */
export function smallCap(settings: DrillSettings): number {
  return Math.max(4_096, Math.round((settings.rate * settings.phaseMs) / 1_000 / 3) * RECORD_BYTES_AT_LEAST);
}

/** The drill's single disk spool with `limits` added (the user's first disk spool, with `--config`). */
export function limitSpool(config: LongFormConfigInput, limits: Record<string, unknown>): LongFormConfigInput {
  const spools = Array.isArray(config.spool) ? config.spool : [config.spool];
  const disk = spools.find((s) => s.kind === 'disk') as { kind: 'disk'; dir: string } | undefined;
  if (!disk) throw new ConfigError('spool: the spool-full scenarios need a disk spool in the configuration; add one', { field: 'spool' });
  return { ...config, spool: { kind: 'disk', dir: disk.dir, ...limits } as LongFormConfigInput['spool'] };
}

/** Every rejected send must have been refused by the full spool (SpoolFullError), not by anything else. */
export function rejectionsAreSpoolFull(sent: readonly SentRecord[]): Check {
  const rejected = sent.filter((s) => s.error !== undefined);
  const other = rejected.filter((s) => s.errorKind !== 'SpoolFullError');
  const kinds = [...new Set(other.map((s) => s.errorKind ?? 'unknown'))].join(', ');
  return {
    name: 'rejections that were not SpoolFullError',
    value: other.length,
    expected: '0',
    passed: other.length === 0,
    detail: other.length > 0 ? `${kinds}: ${other[0]?.error?.split('\n')[0] ?? ''}` : `${rejected.length} rejected sends, each with SpoolFullError`,
  };
}
