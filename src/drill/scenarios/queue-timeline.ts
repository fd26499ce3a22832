import type { ScenarioRun } from '../scenario-run.js';
import { type Phase, REFUSE } from '../scenario.js';

/** Runs the fixture's action `name` (see `ScenarioFixture.actions`) and marks it on the timeline. */
export function fixtureAction(name: string, what: string): (run: ScenarioRun) => Promise<void> {
  return async (run) => {
    const action = run.fixture?.actions?.[name];
    if (!action) throw new Error(`scenario ${run.scenario.name}: its setup offers no "${name}" action`);
    await action();
    run.observations.mark(what);
  };
}

/** The timeline of the queue secondaries: primary down, then the queue or bus too (writes go to the spool), then both back. */
export const QUEUE_SECONDARY_PHASES: readonly Phase[] = [
  { name: 'steady', length: 1 },
  { name: 'primary-down', length: 1.5, primary: REFUSE },
  { name: 'both-down', length: 1, primary: REFUSE, onStart: fixtureAction('secondaryDown', 'secondary refusing connections') },
  { name: 'recovered', length: 1, onStart: fixtureAction('secondaryUp', 'secondary healthy again') },
];
