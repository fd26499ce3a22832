/**
 * Bundle a TypeScript child-process entry into one plain ESM file, so crash
 * tests can start many children without paying for a TypeScript loader in
 * each (about 1 s per start under `--import tsx` on a loaded machine, against
 * about 0.1 s for plain node). esbuild comes with tsx and vitest; when it
 * cannot be loaded the children run under `--import tsx` instead, and the
 * caller is told why.
 */
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { join } from 'node:path';

/** How to start the child: `node ...args <child arguments>`; `cleanup` removes the bundle. */
export interface ChildCommand {
  readonly args: readonly string[];
  readonly note?: string;
  cleanup(): Promise<void>;
}

/** Bundle `entry` (an absolute .ts path) for node; falls back to the tsx loader with a note. */
export async function bundleChild(entry: string): Promise<ChildCommand> {
  // Inside the project, so the bundle's imports of installed packages resolve from node_modules.
  const cache = join(process.cwd(), 'node_modules', '.cache');
  await mkdir(cache, { recursive: true });
  const dir = await mkdtemp(join(cache, 'spillway-child-'));
  const outfile = join(dir, 'child.mjs');
  try {
    const esbuild = (await import('esbuild')) as { build(options: Record<string, unknown>): Promise<unknown> };
    await esbuild.build({ entryPoints: [entry], outfile, bundle: true, platform: 'node', format: 'esm', target: 'node20', packages: 'external', logLevel: 'silent' });
    return { args: [outfile], cleanup: () => rm(dir, { recursive: true, force: true }) };
  } catch (error) {
    await rm(dir, { recursive: true, force: true });
    return {
      args: ['--import', 'tsx', entry],
      note: `could not bundle ${entry} with esbuild (${(error as Error).message}); children start under --import tsx, about 1 s each`,
      cleanup: async () => undefined,
    };
  }
}
