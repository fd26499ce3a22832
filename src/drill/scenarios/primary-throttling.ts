import type { Scenario } from '../scenario.js';

/** Throttling is back-pressure, not an outage: the bus must retry the primary and never fail over. */
export const primaryThrottling: Scenario = {
  name: 'primary-throttling',
  description: 'The primary throttles every PutRecords for a while; the bus must back off and retry, never fail over.',
  phases: [
    { name: 'steady', length: 1 },
    { name: 'throttled', length: 1, primary: { mode: 'throttle', operations: ['PutRecords'] } },
    { name: 'recovered', length: 1 },
  ],
  expect: { failover: 'none' },
  note: 'The throttled phase is shorter than the delivery throttle budget, so every record must end up on the primary directly. Per-key order must hold through the retries.',
};
