/**
 * Read benchmark outputs (files, or stdin) and list their TARGET lines;
 * exit 1 when one is MISS, 2 on a malformed line (or a verdict that does
 * not follow from its value). A file without TARGET lines is listed as such
 * (the embedded write path has no target).
 *
 *   node --import tsx bench/targets.ts bench/results/*.txt
 *   npm run bench:write | node --import tsx bench/targets.ts
 */
import { readFileSync } from 'node:fs';
import { parseTargets, formatTarget } from './lib.js';

const files = process.argv.slice(2);
let missed = 0;
try {
  for (const f of files.length ? files : ['-']) {
    const targets = parseTargets(readFileSync(f === '-' ? 0 : f, 'utf8'));
    const name = f === '-' ? 'stdin' : f;
    if (targets.length === 0) {
      console.log(`${name}: no TARGET line`);
    }
    for (const t of targets) {
      console.log(`${name}: ${formatTarget(t)}`);
      if (!t.ok) missed++;
    }
  }
} catch (e) {
  console.error((e as Error).message);
  process.exit(2);
}
process.exitCode = missed ? 1 : 0;
