/**
 * The built package as other apps load it: through its `exports` map, from a
 * CommonJS file, an ES module, a TypeScript project compiled to CommonJS
 * (moduleResolution node16) and one type-checked for a bundler. Uses `dist/`,
 * which `npm test` builds first.
 */
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const run = promisify(execFile);
const root = resolve(import.meta.dirname, '../..');
const tsc = join(root, 'node_modules/typescript/bin/tsc');
let app: string;

/** Run tsc on a project; a failure carries tsc's own output. */
async function compile(dir: string): Promise<void> {
  await run(process.execPath, [tsc, '-p', dir]).catch((e: { stdout?: string }) => {
    throw new Error(`tsc failed for ${dir}:\n${e.stdout ?? ''}`);
  });
}

beforeAll(async () => {
  app = await mkdtemp(join(tmpdir(), 'spillway-app-'));
  await mkdir(join(app, 'node_modules'));
  await symlink(root, join(app, 'node_modules/spillway'), 'dir');
});
afterAll(async () => {
  await rm(app, { recursive: true, force: true });
});

const probe = `{ createBus: typeof s.createBus, client: typeof s.FailoverKinesisClient, guard: s.isSpillwayError(new s.ValidationError('x')) }`;
const expected = { createBus: 'function', client: 'function', guard: true };

describe('the package, loaded by other apps', () => {
  it('loads with require() from a CommonJS file', async () => {
    await writeFile(join(app, 'app.cjs'), `const s = require('spillway');\nconsole.log(JSON.stringify(${probe}));\n`);
    const { stdout } = await run(process.execPath, ['app.cjs'], { cwd: app });
    expect(JSON.parse(stdout)).toEqual(expected);
  });

  it('loads with import from an ES module', async () => {
    await writeFile(join(app, 'app.mjs'), `import * as s from 'spillway';\nconsole.log(JSON.stringify(${probe}));\n`);
    const { stdout } = await run(process.execPath, ['app.mjs'], { cwd: app });
    expect(JSON.parse(stdout)).toEqual(expected);
  });

  const source = `import { createBus, FailoverKinesisClient, type BusConfigInput } from 'spillway';
const config = { primary: { kind: 'kinesis', region: 'us-east-1', stream: 'orders' }, spool: { kind: 'disk', dir: '/tmp/x' } } satisfies BusConfigInput;
const client = new FailoverKinesisClient({ region: 'us-east-1', failover: { spool: { kind: 'disk', dir: '/tmp/x' } } });
console.log(JSON.stringify({ createBus: typeof createBus, client: typeof client.send, stream: config.primary.stream }));
client.destroy();
`;

  it('compiles and runs as a TypeScript project emitting CommonJS (moduleResolution node16)', async () => {
    const dir = join(app, 'ts-cjs');
    await mkdir(dir, { recursive: true });
    await writeFile(join(dir, 'package.json'), JSON.stringify({ type: 'commonjs' }));
    await writeFile(join(dir, 'index.ts'), source);
    const compilerOptions = { module: 'node16', moduleResolution: 'node16', target: 'es2022', strict: true, skipLibCheck: true, outDir: 'out', types: [] };
    await writeFile(join(dir, 'tsconfig.json'), JSON.stringify({ compilerOptions, files: ['index.ts'] }));
    await compile(dir);
    const { stdout } = await run(process.execPath, [join(dir, 'out/index.js')], { cwd: dir });
    expect(JSON.parse(stdout)).toEqual({ createBus: 'function', client: 'function', stream: 'orders' });
  }, 60_000);

  it('type-checks in a project with moduleResolution bundler, and rejects a wrong config type', async () => {
    const dir = join(app, 'ts-bundler');
    await mkdir(dir, { recursive: true });
    await writeFile(join(dir, 'index.ts'), source);
    await writeFile(join(dir, 'wrong.ts'), `import type { BusConfigInput } from 'spillway';\nexport const c: BusConfigInput = { primary: { kind: 'kinesis', region: 1 } };\n`);
    const compilerOptions = { module: 'esnext', moduleResolution: 'bundler', target: 'es2022', strict: true, skipLibCheck: true, noEmit: true, types: [] };
    await writeFile(join(dir, 'tsconfig.json'), JSON.stringify({ compilerOptions, files: ['index.ts'] }));
    await compile(dir);
    await writeFile(join(dir, 'tsconfig.json'), JSON.stringify({ compilerOptions, files: ['wrong.ts'] }));
    const failed = await run(process.execPath, [tsc, '-p', dir]).then(() => undefined, (e: { stdout: string }) => e.stdout);
    expect(failed).toMatch(/wrong\.ts.*error TS2322/s);
  }, 60_000);
});
