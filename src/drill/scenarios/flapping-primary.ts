import { type Phase, REFUSE, type Scenario } from '../scenario.js';

const flaps: Phase[] = [1, 2, 3].flatMap((n) => [
  { name: `down-${n}`, length: 0.5, primary: REFUSE },
  { name: `up-${n}`, length: 0.5 },
]);

/** The primary comes and goes every half phase: breakers open and close, drains start and stop. */
export const flappingPrimary: Scenario = {
  name: 'flapping-primary',
  description: 'The primary goes down and comes back three times in quick succession.',
  phases: [{ name: 'steady', length: 1 }, ...flaps, { name: 'recovered', length: 1 }],
  expect: { failover: 'expected' },
};
