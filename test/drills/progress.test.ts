/** Live progress degrades to plain lines when the output is not a terminal (CI logs). */
import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createProgressDisplay } from '../../src/drill/progress.js';
import { SCENARIOS } from '../../src/drill/scenarios/index.js';

describe('drill progress', () => {
  it('prints one plain line per scenario start, phase change and verdict when not on a TTY', () => {
    const out = new PassThrough();
    let text = '';
    out.on('data', (c: Buffer) => (text += c.toString()));
    const display = createProgressDisplay(out as unknown as NodeJS.WriteStream, 1);
    const scenario = SCENARIOS[0]!;
    display.scenario({ scenario });
    const tick = { scenario: scenario.name, primary: 10, secondary: 0, spool: 0, spooled: 0 };
    display.progress({ ...tick, phase: 'steady' });
    display.progress({ ...tick, phase: 'steady' });
    display.progress({ ...tick, phase: 'primary-down', primary: 0, secondary: 12 });
    display.scenario({ scenario, result: { name: scenario.name, description: '', passed: true, checks: [], phases: [], series: [], timeline: [], durationMs: 4200 } });
    display.stop();
    expect(text.split('\n').filter(Boolean)).toEqual([
      `drill: ${scenario.name}: ${scenario.description}`,
      `drill: ${scenario.name}: phase steady`,
      `drill: ${scenario.name}: phase primary-down`,
      `drill: ${scenario.name}: pass in 4.2 s`,
    ]);
    expect(text).not.toMatch(/\u001b\[/); // no terminal escapes
  });
});
