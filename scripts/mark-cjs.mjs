// The CommonJS build lives in dist/cjs; this marker tells Node to load its .js files as CommonJS.
import { mkdirSync, writeFileSync } from 'node:fs';

mkdirSync('dist/cjs', { recursive: true });
writeFileSync('dist/cjs/package.json', '{ "type": "commonjs" }\n');
