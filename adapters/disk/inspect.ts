/**
 * Read-only look at a disk spool directory, for `spillway spool inspect` and
 * `spillway spool verify`. Changes nothing and takes no lock, so it can run
 * beside the process that owns the spool (its answer is then a snapshot).
 */
import { readFile, stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { SpoolCipher } from '../../src/contracts/spool.js';
import { isSealed } from '../../src/crypto/spool-cipher.js';
import { decodeEnvelope } from '../../src/envelope/codec.js';
import { ConfigError } from '../../src/errors/config.js';
import { readCursor } from './cursor.js';
import { describeFsError, ioError } from './fs-util.js';
import { checkFrame, findNextFrame, isTornTail } from './framing.js';
import { listQuarantine } from './quarantine.js';
import { listSegments, segmentName } from './segment.js';

/** One problem found by {@link inspectDiskSpool}. */
export interface SpoolFinding {
  readonly file: string;
  readonly offset: number;
  /** `damage`: bad bytes the spool quarantines and skips; `torn-tail`: an incomplete last append, cut on open; `decrypt`: fails under the given key. */
  readonly kind: 'damage' | 'torn-tail' | 'decrypt';
  readonly bytes: number;
  readonly reason: string;
}

/** What a disk spool directory holds. */
export interface DiskSpoolReport {
  readonly dir: string;
  /** Records not yet acknowledged (valid frames from the cursor on). */
  readonly records: number;
  readonly bytes: number;
  readonly segments: number;
  /** Event times of the oldest and newest unacknowledged records (ms since the epoch); absent when empty or sealed without a key. */
  readonly oldestEventTime?: number;
  readonly newestEventTime?: number;
  /** Records sealed with encryption at rest. */
  readonly sealedRecords: number;
  /** Quarantine copies in `quarantine/` (each one or more damaged records) and their bytes. */
  readonly quarantined: { readonly files: number; readonly bytes: number };
  /** Problems found in every segment, including bytes before the cursor. */
  readonly findings: readonly SpoolFinding[];
}

/** Inspect `dir` without changing it. Throws ConfigError when it is not a spool directory. */
export async function inspectDiskSpool(dirArg: string, options: { cipher?: SpoolCipher } = {}): Promise<DiskSpoolReport> {
  const dir = resolve(dirArg);
  const info = await stat(dir).catch((cause: unknown) => {
    throw new ConfigError(`cannot read ${dir} (${describeFsError(cause)}); give the path of a spool directory (spool.dir)`, { cause });
  });
  if (!info.isDirectory()) throw new ConfigError(`${dir} is not a directory; give the path of a spool directory (spool.dir)`);
  const cursor = await readCursor(dir);
  const seqs = await listSegments(dir);
  const report = { dir, records: 0, bytes: 0, segments: 0, sealedRecords: 0, findings: [] as SpoolFinding[], oldestEventTime: undefined as number | undefined, newestEventTime: undefined as number | undefined };
  for (const [i, seq] of seqs.entries()) {
    if (seq < cursor.seq) continue;
    report.segments += 1;
    const file = join(dir, segmentName(seq));
    const buf = await readFile(file).catch((cause: unknown) => {
      throw ioError('read the spool segment', file, cause);
    });
    const liveFrom = seq === cursor.seq ? cursor.offset : 0;
    walkSegment(buf, file, i === seqs.length - 1, (offset, payload) => {
      if (offset < liveFrom) return;
      report.records += 1;
      report.bytes += payload.length + 8;
      noteRecord(report, payload, file, offset, options.cipher);
    }, report.findings);
  }
  const quarantine = await listQuarantine(dir);
  const { oldestEventTime, newestEventTime, ...rest } = report;
  return {
    ...rest,
    ...(oldestEventTime === undefined ? {} : { oldestEventTime }),
    ...(newestEventTime === undefined ? {} : { newestEventTime }),
    quarantined: { files: quarantine.length, bytes: quarantine.reduce((n, q) => n + q.bytes, 0) },
  };
}

/** Every frame of a segment: `onRecord` for the valid ones, a finding for each bad run. */
function walkSegment(buf: Buffer, file: string, isLast: boolean, onRecord: (offset: number, payload: Buffer) => void, findings: SpoolFinding[]): void {
  for (let at = 0; at < buf.length; ) {
    const check = checkFrame(buf, at);
    if (check.ok) {
      onRecord(at, check.payload);
      at = check.end;
      continue;
    }
    const next = findNextFrame(buf, at + 1);
    const end = next < 0 ? buf.length : next;
    const torn = next < 0 && isLast && isTornTail(check, buf.subarray(at));
    findings.push({ file, offset: at, kind: torn ? 'torn-tail' : 'damage', bytes: end - at, reason: check.reason });
    at = end;
  }
}

type Tally = { sealedRecords: number; oldestEventTime: number | undefined; newestEventTime: number | undefined; findings: SpoolFinding[] };

function noteRecord(report: Tally, payload: Buffer, file: string, offset: number, cipher: SpoolCipher | undefined): void {
  let plain: Uint8Array = payload;
  if (isSealed(payload)) {
    report.sealedRecords += 1;
    if (cipher === undefined) return;
    try {
      plain = cipher.open(payload, `record at byte ${offset} of ${file}`);
    } catch (error) {
      report.findings.push({ file, offset, kind: 'decrypt', bytes: payload.length + 8, reason: (error as Error).message });
      return;
    }
  }
  try {
    const { eventTime } = decodeEnvelope(plain);
    report.oldestEventTime = Math.min(report.oldestEventTime ?? eventTime, eventTime);
    report.newestEventTime = Math.max(report.newestEventTime ?? eventTime, eventTime);
  } catch (error) {
    report.findings.push({ file, offset, kind: 'damage', bytes: payload.length + 8, reason: `the record does not decode (${(error as Error).message})` });
  }
}
