/**
 * Every drill scenario, in the order the matrix runs them. A new scenario is one file in this folder and one
 * line here; a scenario whose feature needs a capability names it in `needs` and is skipped (with the reason)
 * on a backend without it.
 */
import type { Scenario } from '../scenario.js';
import { bothDown } from './both-down.js';
import { consumerThroughOutage } from './consumer-through-outage.js';
import { eventBridgeSecondary } from './eventbridge-secondary.js';
import { flappingPrimary } from './flapping-primary.js';
import { longOutage } from './long-outage.js';
import { partialFailures } from './partial-failures.js';
import { primaryHanging } from './primary-hanging.js';
import { primaryRefusing } from './primary-refusing.js';
import { primarySlow } from './primary-slow.js';
import { primaryThrottling } from './primary-throttling.js';
import { producerKilled } from './producer-killed.js';
import { reconcilerKilled } from './reconciler-killed.js';
import { redisSpoolKilled } from './redis-spool-killed.js';
import { spoolFullBlock } from './spool-full-block.js';
import { spoolFullReject } from './spool-full-reject.js';
import { sqsSecondary } from './sqs-secondary.js';
import { twoProducers } from './two-producers.js';

/** The scenario matrix. */
export const SCENARIOS: readonly Scenario[] = [
  primaryRefusing,
  primaryHanging,
  primarySlow,
  primaryThrottling,
  partialFailures,
  flappingPrimary,
  bothDown,
  producerKilled,
  reconcilerKilled,
  longOutage,
  sqsSecondary,
  eventBridgeSecondary,
  redisSpoolKilled,
  twoProducers,
  spoolFullReject,
  spoolFullBlock,
  consumerThroughOutage,
];
