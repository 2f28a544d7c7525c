#!/usr/bin/env node
// Checks the module boundaries of src/ (ARCHITECTURE.md states them):
//
//   1. Each folder of src/ has an index.ts, its public surface. A file
//      imports another folder only through that folder's index.ts, never a
//      file inside it (a "deep import").
//   2. Layers: a folder imports only folders of a lower layer (LAYERS below),
//      so dependencies point one way and never form a cycle.
//   3. src/index.ts, the library's public API, imports folder surfaces only.
//
// Files in one folder import each other directly. Run by `npm test` (through
// test/boundaries.test.ts) and by `npm run lint`.
//
// Usage: node scripts/check-boundaries.mjs        exits 1 and lists every violation

import { readdirSync, readFileSync, statSync, existsSync } from 'node:fs';
import { dirname, join, normalize, relative, sep } from 'node:path';

/**
 * Lowest first. A folder may import the folders of the layers before its own,
 * never its own layer's or a later one's. `errors` is src/errors.ts.
 */
export const LAYERS = [
  ['errors'],
  ['util', 'log', 'stats', 'config'],
  ['trec', 'db', 'encoders'],
  ['judged-set', 'migrate', 'partitions', 'ingest', 'judges'],
  ['versions', 'judgments'],
  ['shadow'],
  ['lifecycle'],
  ['search', 'backfill', 'status'],
  ['evaluate', 'serve', 'derive'],
  ['judge'],
  ['upgrade-report'],
  ['demo'],
  ['cli'],
];

const root = new URL('..', import.meta.url).pathname;
const src = join(root, 'src');

const rank = new Map(LAYERS.flatMap((names, i) => names.map((n) => [n, i])));

function walk(dir) {
  return readdirSync(dir).flatMap((name) => {
    const p = join(dir, name);
    return statSync(p).isDirectory() ? walk(p) : p.endsWith('.ts') ? [p] : [];
  });
}

/** The top-level unit of src/ a path belongs to: a folder name, `errors`, or `index` (src/index.ts). */
function unitOf(path) {
  const parts = relative(src, path).split(sep);
  if (parts.length > 1) return parts[0];
  return parts[0].replace(/\.(ts|js)$/, '');
}

const IMPORT = /(?:^|\n)\s*(?:import|export)\s[^'"]*?from\s*['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)/g;

export function check() {
  const problems = [];
  const folders = readdirSync(src).filter((n) => statSync(join(src, n)).isDirectory());
  for (const folder of folders) {
    if (!existsSync(join(src, folder, 'index.ts')))
      problems.push(`src/${folder}/ has no index.ts (its public surface)`);
    if (!rank.has(folder))
      problems.push(`src/${folder}/ is in no layer of scripts/check-boundaries.mjs: add it to LAYERS`);
  }
  for (const file of walk(src)) {
    const from = unitOf(file);
    const text = readFileSync(file, 'utf8');
    for (const m of text.matchAll(IMPORT)) {
      const spec = m[1] ?? m[2];
      if (!spec.startsWith('.')) continue;
      const target = normalize(join(dirname(file), spec));
      const to = unitOf(target);
      if (to === from) continue;
      const where = `${relative(root, file)}: imports ${spec}`;
      if (to === 'index') {
        problems.push(`${where} (the public API: import the folder's own surface instead)`);
        continue;
      }
      const isFolder = folders.includes(to);
      if (isFolder && relative(join(src, to), target).replace(/\.js$/, '') !== 'index') {
        problems.push(
          `${where}: a deep import; import '${relative(dirname(file), join(src, to, 'index.js'))}' instead`,
        );
      }
      if (from === 'index') continue;
      const a = rank.get(from);
      const b = rank.get(to);
      if (a !== undefined && b !== undefined && b >= a) {
        problems.push(
          `${where}: ${from} (layer ${a}) may not import ${to} (layer ${b}); lower layers never import higher ones`,
        );
      }
    }
  }
  return problems;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const problems = check();
  for (const p of problems) console.error(`check-boundaries: ${p}`);
  if (problems.length) {
    console.error(`check-boundaries: ${problems.length} problem(s)`);
    process.exit(1);
  }
  console.log('check-boundaries: ok');
}
