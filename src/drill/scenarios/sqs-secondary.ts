import { sqsSecondary as setup } from '../queue-fixtures.js';
import type { Scenario } from '../scenario.js';
import { QUEUE_SECONDARY_PHASES } from './queue-timeline.js';

/** Kinesis primary, SQS secondary (fauxqs): writes fail over to the queue, then to the spool, and drain back. */
export const sqsSecondary: Scenario = {
  name: 'sqs-secondary',
  description: 'The Kinesis primary goes down with an SQS queue as the secondary, then the queue too; everything drains back.',
  note: 'The queue is fauxqs in this process behind a fault proxy of its own; the consumer reads the primary only (it reads Kinesis tiers).',
  needs: ['sqs'],
  setup,
  phases: QUEUE_SECONDARY_PHASES,
  expect: { failover: 'expected' },
};
