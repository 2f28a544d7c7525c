#!/usr/bin/env node
// Runs the whole suite with node's own test runner, first on the embedded
// backend (PGlite), then again on a PostgreSQL server when TEST_DATABASE_URL
// is set. Prints node's summary for each pass and a final
// `N passed, N failed, N skipped` line.
import { spawnSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
const args = process.argv.slice(2);
const only = args.filter((a) => !a.startsWith('-'));

function findTests(dir) {
  const out = [];
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (name === 'node_modules' || name === 'artifacts' || name === 'fixtures') continue;
    if (statSync(p).isDirectory()) out.push(...findTests(p));
    else if (name.endsWith('.test.ts')) out.push(relative(root, p));
  }
  return out.sort();
}

let files = findTests(join(root, 'test'));
if (only.length) files = files.filter((f) => only.some((o) => f.includes(o)));

const passes = [{ name: 'embedded (PGlite)', env: { EMBCTL_TEST_BACKEND: 'pglite' } }];
if (process.env.TEST_DATABASE_URL) {
  passes.push({ name: `server (${redact(process.env.TEST_DATABASE_URL)})`, env: { EMBCTL_TEST_BACKEND: 'postgres' } });
} else {
  console.log('# TEST_DATABASE_URL is not set: server tests are skipped (scripts/pg-test-server.sh start gives one)');
}

const totals = { pass: 0, fail: 0, skipped: 0 };
let failed = false;
for (const pass of passes) {
  console.log(`\n# ===== test pass: ${pass.name} =====`);
  const res = spawnSync(
    process.execPath,
    ['--import', 'tsx', '--test', '--test-reporter=spec', '--test-reporter-destination=stdout',
      '--test-reporter=./scripts/summary-reporter.mjs', `--test-reporter-destination=${join(root, 'node_modules/.embctl-test-summary.json')}`,
      '--test-concurrency=2', ...files],
    { cwd: root, stdio: 'inherit', env: { ...process.env, ...pass.env } },
  );
  let summary = { pass: 0, fail: 0, skipped: 0 };
  try {
    summary = JSON.parse((await import('node:fs')).readFileSync(join(root, 'node_modules/.embctl-test-summary.json'), 'utf8'));
  } catch { /* reporter did not run */ }
  if (res.status !== 0 && summary.fail === 0) summary.fail = 1;
  console.log(`# ${pass.name}: ${summary.pass} passed, ${summary.fail} failed, ${summary.skipped} skipped`);
  totals.pass += summary.pass; totals.fail += summary.fail; totals.skipped += summary.skipped;
  if (res.status !== 0) failed = true;
}
console.log(`\n${totals.pass} passed, ${totals.fail} failed, ${totals.skipped} skipped`);
process.exit(failed ? 1 : 0);

function redact(url) {
  return url.replace(/(:\/\/[^:/@]+:)[^@]+@/, '$1***@');
}
