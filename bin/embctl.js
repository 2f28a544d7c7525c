#!/usr/bin/env node
// embctl executable: runs the compiled CLI (built by `npm install` / `npm run build`).
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const entry = new URL('../dist/cli/run.js', import.meta.url);
if (!existsSync(fileURLToPath(entry))) {
  process.stderr.write('embctl: not built yet: run `npm run build` (npm install does it too)\n');
  process.exit(2);
}
await import(entry.href);
