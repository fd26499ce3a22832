import { REFUSE, type Scenario } from '../scenario.js';

/** The region-outage timeline: primary down, then the secondary too (writes go to the spool), then both back. */
export const bothDown: Scenario = {
  name: 'both-down',
  description: 'The primary goes down, then the secondary too, so writes land in the local spool; then both come back.',
  phases: [
    { name: 'steady', length: 1 },
    { name: 'primary-down', length: 1, primary: REFUSE },
    { name: 'both-down', length: 1.5, primary: REFUSE, secondary: REFUSE },
    { name: 'recovered', length: 1 },
  ],
  expect: { failover: 'expected' },
};
