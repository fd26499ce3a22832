import { REFUSE, type Scenario } from '../scenario.js';

/** The primary region refuses connections; writes move to the secondary and come back after recovery. */
export const primaryRefusing: Scenario = {
  name: 'primary-refusing',
  description: 'The primary region refuses every connection; writes fail over to the secondary and drain back.',
  phases: [
    { name: 'steady', length: 1 },
    { name: 'primary-down', length: 2, primary: REFUSE },
    { name: 'recovered', length: 1 },
  ],
  expect: { failover: 'expected' },
};
