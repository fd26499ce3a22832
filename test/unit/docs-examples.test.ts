/**
 * The TypeScript examples of README.md and docs/ compile as written: every
 * ```ts block that imports something (a whole example rather than a fragment)
 * is type-checked, strict, as a user's ES module would be, with `spillway`
 * resolved to this checkout's source.
 */
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import ts from 'typescript';
import { afterAll, describe, expect, it } from 'vitest';

const ROOT = resolve(import.meta.dirname, '../..');

async function examples(): Promise<Array<{ name: string; code: string }>> {
  const docs = (await readdir(join(ROOT, 'docs'))).filter((f) => f.endsWith('.md')).map((f) => `docs/${f}`);
  const out: Array<{ name: string; code: string }> = [];
  for (const file of ['README.md', ...docs]) {
    const text = await readFile(join(ROOT, file), 'utf8');
    let n = 0;
    for (const m of text.matchAll(/```ts\n([\s\S]*?)```/g)) {
      n++;
      const code = m[1] as string;
      if (/^import /m.test(code)) out.push({ name: `${file.replace(/[/.]/g, '_')}_${n}.ts`, code });
    }
  }
  return out;
}

describe('documentation examples', () => {
  let dir: string | undefined;
  afterAll(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('type-check as written', async () => {
    const blocks = await examples();
    expect(blocks.length).toBeGreaterThanOrEqual(4);
    // Inside the checkout (.scratch is ignored by git), so the examples' other imports resolve from its node_modules.
    await mkdir(join(ROOT, '.scratch'), { recursive: true });
    dir = await mkdtemp(join(ROOT, '.scratch', 'docs-examples-'));
    await writeFile(join(dir, 'package.json'), '{"type":"module"}');
    const files = [];
    for (const b of blocks) {
      const path = join(dir, b.name);
      await writeFile(path, `${b.code}\nexport {};\n`);
      files.push(path);
    }
    const program = ts.createProgram(files, {
      strict: true,
      module: ts.ModuleKind.NodeNext,
      moduleResolution: ts.ModuleResolutionKind.NodeNext,
      target: ts.ScriptTarget.ES2022,
      noEmit: true,
      skipLibCheck: true,
      types: ['node'],
      typeRoots: [join(ROOT, 'node_modules/@types')],
      baseUrl: ROOT,
      paths: { spillway: ['src/index.ts'] },
    });
    const problems = ts
      .getPreEmitDiagnostics(program)
      .filter((d) => d.file?.fileName.startsWith(dir as string))
      .map((d) => `${d.file?.fileName.slice((dir as string).length + 1)}: ${ts.flattenDiagnosticMessageText(d.messageText, '\n')}`);
    expect(problems).toEqual([]);
  }, 120_000);
});
