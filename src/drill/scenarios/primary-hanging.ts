import type { Scenario } from '../scenario.js';
import { FAILBACK_ORDER_NOTE } from './order-note.js';

/** The primary accepts connections and never answers: only request timeouts reveal the outage. */
export const primaryHanging: Scenario = {
  name: 'primary-hanging',
  description: 'The primary accepts requests and never answers; timeouts must trigger the failover.',
  note: FAILBACK_ORDER_NOTE,
  phases: [
    { name: 'steady', length: 1 },
    { name: 'primary-hangs', length: 2, primary: { mode: 'hang' } },
    { name: 'recovered', length: 1 },
  ],
  expect: { failover: 'expected', orderViolations: 'report' },
};
