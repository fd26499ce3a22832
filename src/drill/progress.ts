/**
 * Live progress while the drill runs: a cli-progress bar per scenario on a terminal (phase, where writes
 * land, spool depth), plain lines when stderr is not a TTY (CI logs).
 */
import cliProgress from 'cli-progress';
import type { Scenario } from './scenario.js';
import type { Progress, ScenarioResult } from './scenario-run.js';

/** What the CLI feeds the display. */
export interface ProgressDisplay {
  scenario(event: { scenario: Scenario; result?: ScenarioResult }): void;
  progress(p: Progress): void;
  stop(): void;
}

/** A display on `stream`: a live bar when it is a TTY, else one line per phase and per scenario. */
export function createProgressDisplay(stream: NodeJS.WriteStream, total: number): ProgressDisplay {
  if (stream.isTTY) return barDisplay(stream, total);
  let lastPhase = '';
  return {
    scenario({ scenario, result }) {
      if (!result) stream.write(`drill: ${scenario.name}: ${scenario.description}\n`);
      else stream.write(`drill: ${scenario.name}: ${result.skipped ? `skipped (${result.skipped})` : result.passed ? 'pass' : 'FAIL'} in ${(result.durationMs / 1000).toFixed(1)} s\n`);
    },
    progress(p) {
      const key = `${p.scenario}/${p.phase}`;
      if (key === lastPhase) return;
      lastPhase = key;
      stream.write(`drill: ${p.scenario}: phase ${p.phase}\n`);
    },
    stop: () => undefined,
  };
}

function barDisplay(stream: NodeJS.WriteStream, total: number): ProgressDisplay {
  const bar = new cliProgress.SingleBar(
    { stream, format: '{value}/{total} {scenario} | {phase} | {rate} acked/s: primary {primary} secondary {secondary} spool {spool} | spool backlog {spooled}', hideCursor: true, clearOnComplete: false },
    cliProgress.Presets.shades_classic,
  );
  let done = 0;
  bar.start(total, 0, { scenario: '', phase: '', rate: 0, primary: 0, secondary: 0, spool: 0, spooled: 0 });
  return {
    scenario({ scenario, result }) {
      if (result) done += 1;
      bar.update(done, { scenario: scenario.name, phase: result ? (result.skipped ? 'skipped' : result.passed ? 'pass' : 'FAIL') : 'starting' });
    },
    progress: (p) => bar.update(done, { ...p, rate: p.primary + p.secondary + p.spool }),
    stop: () => bar.stop(),
  };
}
