/**
 * The library's runtime does not carry the drill: nothing `src/index.ts` reaches imports drill code, the
 * emulators or the test containers. The import graph is walked from the source files themselves.
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const root = resolve(import.meta.dirname, '../..');
const TOOLING = /^(kinesalite|kinesis-local|fauxqs|leveldown|@testcontainers\/|testcontainers)/;

/** Every file reachable from `entry` through static and dynamic imports, and every package named. */
function walk(entry: string): { files: Set<string>; packages: Set<string> } {
  const files = new Set<string>();
  const packages = new Set<string>();
  const pending = [entry];
  while (pending.length > 0) {
    const file = pending.pop() as string;
    if (files.has(file)) continue;
    files.add(file);
    const source = readFileSync(file, 'utf8');
    for (const m of source.matchAll(/(?:import|export)\s[^'";]*?from\s+['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)/g)) {
      const spec = (m[1] ?? m[2]) as string;
      if (!spec.startsWith('.')) {
        packages.add(spec);
        continue;
      }
      const target = resolve(dirname(file), spec.replace(/\.js$/, '.ts'));
      if (existsSync(target)) pending.push(target);
      else if (existsSync(join(target, 'index.ts'))) pending.push(join(target, 'index.ts'));
    }
  }
  return { files, packages };
}

describe('runtime import graph', () => {
  it('reaches no drill code and no emulator from src/index.ts', () => {
    const { files, packages } = walk(join(root, 'src/index.ts'));
    const rel = [...files].map((f) => relative(root, f));
    expect(rel.length).toBeGreaterThan(20);
    expect(rel.filter((f) => f.startsWith('src/drill/') || f.startsWith('src/cli/'))).toEqual([]);
    expect([...packages].filter((p) => TOOLING.test(p))).toEqual([]);
  });

  it('sees the drill when walking from the CLI (the walk is not blind)', () => {
    const { files } = walk(join(root, 'src/cli/main.ts'));
    expect([...files].some((f) => relative(root, f) === 'src/drill/emulators.ts')).toBe(true);
  });
});
