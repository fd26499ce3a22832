import type { Scenario } from '../scenario.js';

/** PutRecords answers 200 with some entries failed: only those may be retried, none lost, none doubled. */
export const partialFailures: Scenario = {
  name: 'partial-failures',
  description: 'The primary fails one record in four inside otherwise successful PutRecords batches.',
  phases: [
    { name: 'steady', length: 1 },
    { name: 'partial', length: 2, primary: { mode: 'partial', failEvery: 4, errorCode: 'InternalFailure' } },
    { name: 'recovered', length: 1 },
  ],
  expect: { failover: 'report' },
};
