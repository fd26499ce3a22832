import { REFUSE, type Scenario } from '../scenario.js';

/** The producer process dies (SIGKILL) with records in its spool; a new one on the same spool must deliver them. */
export const producerKilled: Scenario = {
  name: 'producer-killed',
  description: 'The producer is SIGKILLed while both regions are down and restarted on the same spool.',
  note: 'Records sent but not yet acknowledged when the producer died may reach the primary; they are reported, not judged. Per-key order is reported too: with failback after-drain the other scenarios keep it, but a producer restarted on the same spool still lets some of its live writes reach the primary before the older backlog of the same key.',
  needs: ['child-process'],
  producer: 'child',
  phases: [
    { name: 'steady', length: 1 },
    { name: 'both-down', length: 1, primary: REFUSE, secondary: REFUSE },
    {
      name: 'restarted',
      length: 1,
      primary: REFUSE,
      secondary: REFUSE,
      onStart: async (run) => {
        await run.producer.kill?.();
        run.observations.mark('producer SIGKILLed; restarting it on the same spool');
        await run.producer.restart?.();
      },
    },
    { name: 'recovered', length: 1 },
  ],
  expect: { failover: 'expected', orderViolations: 'report', unexpected: 'report' },
};
