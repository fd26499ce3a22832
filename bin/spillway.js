#!/usr/bin/env node
// Entry point of the `spillway` command; the TypeScript is compiled to dist/ by `npm run build` (run by `npm ci`).
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const main = new URL('../dist/src/cli/main.js', import.meta.url);
if (!existsSync(fileURLToPath(main))) {
  process.stderr.write('spillway: dist/ is missing; run `npm run build` (npm ci runs it for you) and try again\n');
  process.exit(2);
}
await import(main.href);
