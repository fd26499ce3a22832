import type { Scenario } from '../scenario.js';

/** The primary answers, but 300 ms late: slower sends, nothing lost, nothing doubled. */
export const primarySlow: Scenario = {
  name: 'primary-slow',
  description: 'The primary answers every request 300 ms late (below the request timeout); nothing may be lost or doubled.',
  note: `Whether a slow primary fails over depends on the timeout and breaker settings; the drill reports it.`,
  phases: [
    { name: 'steady', length: 1 },
    { name: 'primary-slow', length: 2, primary: { mode: 'delay', ms: 300 } },
    { name: 'recovered', length: 1 },
  ],
  expect: { failover: 'report' },
};
