import { REFUSE, type Scenario } from '../scenario.js';
import { limitSpool, rejectionsAreSpoolFull, smallCap } from './spool-limits.js';

/** A small disk spool with `whenFull: 'reject'`: sends beyond the cap fail at once, nothing acknowledged is lost. */
export const spoolFullReject: Scenario = {
  name: 'spool-full-reject',
  description: "Both regions go down and the small disk spool fills; with whenFull 'reject' the sends beyond its cap fail at once.",
  note: 'Rejected sends were never acknowledged: they are counted, not lost. Every rejection must be a SpoolFullError, and every acknowledged record must still arrive.',
  configure: (config, settings) => limitSpool(config, { maxBytes: smallCap(settings), whenFull: 'reject' }),
  phases: [
    { name: 'steady', length: 1 },
    { name: 'both-down', length: 2, primary: REFUSE, secondary: REFUSE },
    { name: 'recovered', length: 1 },
  ],
  expect: { failover: 'expected', rejected: 'report' },
  checks: (run, figures) => [
    { name: 'sends rejected by the full spool', value: figures.rejected, expected: '> 0', passed: figures.rejected > 0 },
    rejectionsAreSpoolFull(run.producer.sent()),
  ],
};
