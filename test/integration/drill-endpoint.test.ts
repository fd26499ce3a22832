/**
 * `spillway drill --endpoint URL [--endpoint URL]`: the drill against endpoints that are already running
 * (LocalStack in real use; here two kinesalite processes started by the test, one per region).
 */
import { describe, expect, it } from 'vitest';
import { useKinesisEmulator } from '../helpers/emulators.js';
import { cli } from '../drills/cli.js';

describe('drill --endpoint', () => {
  const east = useKinesisEmulator('kinesalite');
  const west = useKinesisEmulator('kinesalite');

  it('runs a scenario through fault proxies in front of the given endpoints', async () => {
    const { code, stdout } = await cli(['drill', '--endpoint', east.endpoint, '--endpoint', west.endpoint, '--scenario', 'primary-refusing', '--phase-ms', '800', '--rate', '150']);
    expect(stdout).toContain(`spillway drill on endpoint ${east.endpoint} + ${west.endpoint}`);
    expect(stdout).toMatch(/primary-refusing\s+pass\s+\d+\s+0\s+0\s/);
    expect(code).toBe(0);
  }, 120_000);

  it('refuses a third endpoint', async () => {
    const { code, stderr } = await cli(['drill', '--endpoint', east.endpoint, '--endpoint', west.endpoint, '--endpoint', west.endpoint]);
    expect(code).toBe(2);
    expect(stderr).toMatch(/--endpoint: at most two/);
  });

  it('says which --endpoint is not a URL', async () => {
    const { code, stderr } = await cli(['drill', '--endpoint', 'localhost4566']);
    expect(code).toBe(2);
    expect(stderr).toMatch(/--endpoint "localhost4566" is not an http\(s\) URL; give LocalStack's, e\.g\. http:\/\/localhost:4566/);
  });
});
