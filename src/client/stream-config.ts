/**
 * The drop-in client's `failover` options, and the bus configuration they
 * become for one stream: the primary is the client's own region and the
 * command's stream; a Kinesis secondary without a `stream` takes the
 * command's; spool directories and key prefixes get one scope per stream, so
 * one client can serve many streams without their spools mixing.
 */
import { join } from 'node:path';
import type { LongFormConfigInput } from '../config/schema.js';
import type { LoggerLike } from '../logging/logger-like.js';

type SecondaryInput = NonNullable<LongFormConfigInput['secondaries']>[number];
/** A secondary as the drop-in client takes it: a Kinesis one may leave `stream` out. */
export type FailoverSecondary = SecondaryInput extends infer T ? (T extends { kind: 'kinesis'; stream: string } ? Omit<T, 'stream'> & { stream?: string } : T) : never;

/** Everything of a bus configuration except the primary, which the client itself is. */
export interface FailoverOptions extends Omit<LongFormConfigInput, 'primary' | 'secondaries' | 'envelope'> {
  secondaries?: FailoverSecondary[];
  /** What the primary receives; `none` (the default here) keeps existing consumers' bytes unchanged. */
  envelope?: 'spillway' | 'none';
  /** Any logger with pino's level methods (pino, `console`, ...). */
  logger?: LoggerLike;
  /** How long a primary PutRecords may take before it counts as failed and the records move on (default 2000 ms). */
  requestTimeoutMs?: number;
}

/** The bus configuration for `stream` in `region`. */
export function configForStream(failover: FailoverOptions, region: string, stream: string): LongFormConfigInput {
  const { secondaries = [], logger: _logger, envelope = 'none', spool, stateDir, requestTimeoutMs, ...rest } = failover;
  return {
    ...rest,
    envelope,
    primary: { kind: 'kinesis', region, stream, ...(requestTimeoutMs === undefined ? {} : { requestTimeoutMs }) },
    secondaries: secondaries.map((s) => (s.kind === 'kinesis' && !s.stream ? { ...s, stream } : s)) as LongFormConfigInput['secondaries'],
    spool: scopeSpool(spool, stream) as LongFormConfigInput['spool'],
    ...(stateDir ? { stateDir: join(stateDir, stream) } : {}),
  };
}

/** One spool (or chain) per stream: a subdirectory for a `dir`, a suffix for a `keyPrefix`. */
function scopeSpool(spool: unknown, stream: string): unknown {
  if (Array.isArray(spool)) return spool.map((s) => scopeSpool(s, stream));
  if (typeof spool !== 'object' || spool === null) return spool;
  const s = spool as Record<string, unknown>;
  if (typeof s.dir === 'string') return { ...s, dir: join(s.dir, stream) };
  if (typeof s.keyPrefix === 'string') return { ...s, keyPrefix: `${s.keyPrefix}:${stream}` };
  if ('url' in s) return { ...s, keyPrefix: `spillway:${stream}` };
  return spool;
}
