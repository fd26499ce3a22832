import type { Check } from '../checks.js';
import type { SentRecord } from '../load.js';
import { REFUSE, type Scenario } from '../scenario.js';
import type { DrillSettings } from '../scenario-run.js';
import { limitSpool, rejectionsAreSpoolFull, smallCap } from './spool-limits.js';

/** Long enough that sends blocked late in the outage outlive it and are let in by the drain. */
const blockTimeoutMs = (settings: DrillSettings): number => Math.max(3_000, 3 * settings.phaseMs);

/** A send that waited at least this long and was then acknowledged by the spool waited for room. */
const WAITED_MS = 1_000;

const lastLine = (message: string | undefined): string => (message ?? '').trim().split('\n').at(-1)?.trim() ?? '';

function blockChecks(sent: readonly SentRecord[], timeoutMs: number): Check[] {
  const waited = sent.filter((s) => s.id !== undefined && s.landedOn === 'spool' && (s.settledAt ?? 0) - s.sentAt >= WAITED_MS);
  const early = sent.filter((s) => s.errorKind === 'SpoolFullError' && (s.settledAt ?? 0) - s.sentAt < timeoutMs - 100);
  return [
    { name: 'sends that waited for room, then were acknowledged', value: waited.length, expected: '> 0', passed: waited.length > 0, detail: `waited ${WAITED_MS} ms or more` },
    // Sends queued behind a blocked append reach the spool as one batch; it is appended in parts that fit.
    { name: 'sends rejected before blockTimeoutMs', value: early.length, expected: '0', passed: early.length === 0, detail: `blockTimeoutMs ${timeoutMs}${early[0] ? `; first: ${lastLine(early[0].error)}` : ''}` },
    rejectionsAreSpoolFull(sent),
  ];
}

/** A small disk spool with `whenFull: 'block'`: sends wait for room, succeed once the drain frees it, or fail after blockTimeoutMs. */
export const spoolFullBlock: Scenario = {
  name: 'spool-full-block',
  description: "Both regions go down and the small disk spool fills; with whenFull 'block' sends wait until the drain frees room.",
  note:
    'Sends that met the full spool wait up to blockTimeoutMs: those still waiting when the regions return are acknowledged once the drain frees room; any that waited longer fail with SpoolFullError and are counted, not lost. No send is refused before blockTimeoutMs.',
  configure: (config, settings) => limitSpool(config, { maxBytes: smallCap(settings), whenFull: 'block', blockTimeoutMs: blockTimeoutMs(settings) }),
  phases: [
    { name: 'steady', length: 1 },
    { name: 'both-down', length: 2, primary: REFUSE, secondary: REFUSE },
    { name: 'recovered', length: 2 },
  ],
  expect: { failover: 'expected', rejected: 'report' },
  checks: (run) => blockChecks(run.producer.sent(), blockTimeoutMs(run.settings)),
};
