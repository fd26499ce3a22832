import { REFUSE, type Scenario } from '../scenario.js';

/** A consumer group reads through the fault proxies while the regions fail; after recovery it must have every id once. */
export const consumerThroughOutage: Scenario = {
  name: 'consumer-through-outage',
  description: 'A spillway consumer group reads through the outage (its reads fail with the regions); after recovery it must have handled every acknowledged id exactly once.',
  note: "The consumer (createConsumer on the drill's configuration) reads the primary and the Kinesis secondary through the same fault proxies as the bus; its dedupe drops the copy drained back from the secondary.",
  consumer: 'through-faults',
  phases: [
    { name: 'steady', length: 1 },
    { name: 'primary-down', length: 1, primary: REFUSE },
    { name: 'both-down', length: 1, primary: REFUSE, secondary: REFUSE },
    { name: 'recovered', length: 1.5 },
  ],
  expect: { failover: 'expected' },
};
