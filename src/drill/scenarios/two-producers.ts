import { createProducerPair } from '../producer-pair.js';
import { REFUSE, type Scenario } from '../scenario.js';

/** Two producers share one secondary stream and each spools locally; each must drain only its own records. */
export const twoProducers: Scenario = {
  name: 'two-producers',
  description: 'Two producers with their own spools share one stream pair through an outage; every id must reach the primary once.',
  note: 'Each producer drains its own records from the shared secondary (by its instance id); a record drained by both would show as a duplicate.',
  producer: ({ config, settings, workDir, observations }) => createProducerPair({ config, rate: settings.rate, workDir, logger: settings.logger, observations }),
  phases: [
    { name: 'steady', length: 1 },
    { name: 'primary-down', length: 1, primary: REFUSE },
    { name: 'both-down', length: 1, primary: REFUSE, secondary: REFUSE },
    { name: 'recovered', length: 1 },
  ],
  expect: { failover: 'expected' },
};
