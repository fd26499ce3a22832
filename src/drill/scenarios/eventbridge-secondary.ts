import { eventBridgeSecondary as setup } from '../queue-fixtures.js';
import type { Scenario } from '../scenario.js';
import { QUEUE_SECONDARY_PHASES } from './queue-timeline.js';

/** Kinesis primary, EventBridge secondary: events reach a drain queue through the bus's rule and drain back. */
export const eventBridgeSecondary: Scenario = {
  name: 'eventbridge-secondary',
  description: 'The Kinesis primary goes down with an EventBridge bus as the secondary, then the bus too; the drain queue empties back into the primary.',
  note: "The bus is the drill's EventBridge fake, delivering to a fauxqs drain queue before PutEvents answers; only the bus sits behind the fault proxy.",
  needs: ['eventbridge'],
  setup,
  phases: QUEUE_SECONDARY_PHASES,
  expect: { failover: 'expected' },
};
