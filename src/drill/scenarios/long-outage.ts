import { REFUSE, type Scenario } from '../scenario.js';

const PACE_CAP = 300;

/** A long outage builds a large backlog: the drain must keep to its cap and coalesce snapshots. */
export const longOutage: Scenario = {
  name: 'long-outage',
  description: 'Both regions stay down long enough to build a large backlog; the drain must be paced and coalesce snapshots.',
  phases: [
    { name: 'steady', length: 1 },
    { name: 'both-down', length: 4, primary: REFUSE, secondary: REFUSE },
    { name: 'recovered', length: 1 },
  ],
  // A cap below the backlog's size makes the pacing visible at small record counts.
  configure: (config) => ({ ...config, reconciler: { ...config.reconciler, maxRecordsPerSecond: Math.min(Number(config.reconciler?.maxRecordsPerSecond ?? PACE_CAP), PACE_CAP) } }),
  expect: { failover: 'expected', pacing: true, coalescing: true },
};
