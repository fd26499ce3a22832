import type { Scenario } from '../scenario.js';

/** PutRecords answers 200 with some entries failed: only those may be retried, none lost, none doubled. */
export const partialFailures: Scenario = {
  name: 'partial-failures',
  description: 'The primary fails one record in four inside otherwise successful PutRecords batches.',
  note:
    'Per-key order is reported, not judged: a record that fails inside a PutRecords call is retried alone, after later records of its key in the same call were already written (Kinesis itself keeps no order inside one call). Nothing is lost or doubled.',
  phases: [
    { name: 'steady', length: 1 },
    { name: 'partial', length: 2, primary: { mode: 'partial', failEvery: 4, errorCode: 'InternalFailure' } },
    { name: 'recovered', length: 1 },
  ],
  expect: { failover: 'report', orderViolations: 'report' },
};
