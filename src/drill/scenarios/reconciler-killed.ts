import { join } from 'node:path';
import { writeFile } from 'node:fs/promises';
import { spawnBusChild } from '../child-producer.js';
import { REFUSE, type Scenario } from '../scenario.js';
import type { ScenarioRun } from '../scenario-run.js';

/** Drain the spool in a child process, SIGKILL it after its first batch, and finish with a second one. */
async function drainWithKill(run: ScenarioRun): Promise<void> {
  await run.producer.close();
  const configFile = join(run.workDir, 'drain-config.json');
  // Small windows so that the first one is written well before the drain ends: the kill lands mid-drain.
  const reconciler = { ...run.config.reconciler, enabled: false, windowRecords: 100 };
  await writeFile(configFile, JSON.stringify({ ...run.config, reconciler }));
  const args = { configFile, ackFile: join(run.workDir, 'unused'), rate: 0, firstSeq: 0 };
  const first = await spawnBusChild('drain', args, run.observations);
  try {
    await first.firstDrain;
  } finally {
    await first.kill();
  }
  run.observations.mark('reconciler SIGKILLed mid-drain; a new one resumes');
  const second = await spawnBusChild('drain', args, run.observations);
  try {
    await second.drained;
  } finally {
    await second.kill();
  }
}

/** The process draining the spool dies mid-drain; the next drain must neither lose nor duplicate anything. */
export const reconcilerKilled: Scenario = {
  name: 'reconciler-killed',
  description: 'Both regions go down so the spool fills; the reconciler draining it is SIGKILLed mid-drain and a new one finishes.',
  needs: ['child-process'],
  phases: [
    { name: 'steady', length: 1 },
    { name: 'both-down', length: 2, primary: REFUSE, secondary: REFUSE },
  ],
  // No drain while the in-process producer runs; a cap that makes the drain last long enough to be cut.
  configure: (config) => ({ ...config, reconciler: { ...config.reconciler, enabled: false, maxRecordsPerSecond: Math.min(Number(config.reconciler?.maxRecordsPerSecond ?? 300), 300) } }),
  recover: drainWithKill,
  expect: { failover: 'expected' },
};
