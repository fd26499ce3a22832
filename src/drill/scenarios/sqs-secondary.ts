import { sqsSecondary as setup } from '../queue-fixtures.js';
import type { Scenario } from '../scenario.js';
import { QUEUE_SECONDARY_PHASES } from './queue-timeline.js';

/** Kinesis primary, SQS secondary (fauxqs): writes fail over to the queue, then to the spool, and drain back. */
export const sqsSecondary: Scenario = {
  name: 'sqs-secondary',
  description: 'The Kinesis primary goes down with an SQS queue as the secondary, then the queue too; everything drains back.',
  note:
    'The queue is fauxqs in this process behind a fault proxy of its own; the consumer reads the primary only (it reads Kinesis tiers). ' +
    'Per-key order is reported, not judged: in this build a drain cut short around the recovery can leave messages in flight while the bus reports the queue drained and fails back, so they reach the primary after newer live writes of their key once their visibility timeout ends. The drill waits for the queue to be empty before it reads the primary back.',
  needs: ['sqs'],
  setup,
  phases: QUEUE_SECONDARY_PHASES,
  expect: { failover: 'expected', orderViolations: 'report' },
};
