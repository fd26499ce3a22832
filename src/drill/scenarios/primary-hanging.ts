import type { Scenario } from '../scenario.js';

/** The primary accepts connections and never answers: only request timeouts reveal the outage. */
export const primaryHanging: Scenario = {
  name: 'primary-hanging',
  description: 'The primary accepts requests and never answers; timeouts must trigger the failover.',
  phases: [
    { name: 'steady', length: 1 },
    { name: 'primary-hangs', length: 2, primary: { mode: 'hang' } },
    { name: 'recovered', length: 1 },
  ],
  expect: { failover: 'expected' },
};
