/**
 * Records written by the crash-test child (test/helpers/spool-child.ts) and
 * checked by its parent: every field is derived from the id, so the parent
 * can tell whether a recovered record decodes to exactly what was appended.
 */
import type { Envelope } from '../../src/envelope/types.js';

/** Id of record `seq` of writer `writer` in round `round`. */
export function crashRecordId(round: number, writer: number, seq: number): string {
  return `r${round}-w${writer}-${String(seq).padStart(7, '0')}`;
}

/** The parts of a crash-record id; throws on anything else. */
export function parseCrashRecordId(id: string): { round: number; writer: number; seq: number } {
  const match = /^r(\d+)-w(\d+)-(\d{7})$/.exec(id);
  if (match === null) throw new Error(`not a crash-test record id: ${id}`);
  return { round: Number(match[1]), writer: Number(match[2]), seq: Number(match[3]) };
}

/** The envelope the child appends for `id`. */
export function crashRecord(id: string): Envelope {
  const { writer, seq } = parseCrashRecordId(id);
  const body = `${id}|`.repeat(1 + (seq % 9));
  return {
    id,
    partitionKey: `writer-${writer}`,
    kind: 'delta',
    eventTime: 1_700_000_000_000 + seq,
    sentTime: 1_700_000_000_000 + seq * 2,
    contentType: 'text/plain',
    data: Buffer.from(body, 'utf8'),
  };
}

/** What one crash-test child reported before it was killed. */
export interface ChildReport {
  stored: string[];
  leased: string[];
  consumed: string[];
}

/**
 * Parse a child's journal (see test/helpers/spool-child.ts). A last line
 * without its newline was cut short by the kill while being written: the
 * step after it never started, so it is left out.
 */
export function parseChildJournal(text: string): ChildReport {
  const report: ChildReport = { stored: [], leased: [], consumed: [] };
  const complete = text.slice(0, text.lastIndexOf('\n') + 1);
  for (const line of complete.split('\n')) {
    const [verb, id] = line.split(' ');
    if (id === undefined) continue;
    if (verb === 'stored') report.stored.push(id);
    else if (verb === 'leased') report.leased.push(id);
    else if (verb === 'consumed') report.consumed.push(id);
  }
  return report;
}
