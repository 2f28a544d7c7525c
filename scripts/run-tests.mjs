#!/usr/bin/env node
// Runs the whole suite with node's own test runner, once per backend:
//   embedded (PGlite)  always;
//   server             when TEST_DATABASE_URL is set (its replica tests start
//                      their own streaming standby of it);
//   Citus              when TEST_CITUS_URL is set (a coordinator with two
//                      workers: scripts/citus-test-cluster.sh start), on the
//                      files of test/citus-files.json.
// Each pass ends with its `N passed, N failed, N skipped` line and the list
// of its skipped tests with their reasons; the run ends with the totals.
//
// Skips are never silent:
//   - a skipped `describe` fails its pass (node hides how many tests it holds);
//   - with EMBCTL_STRICT_SKIPS=1 (CI), a pass fails when it skips a test that
//     test/skip-allowlist.json does not list for that pass (the server pass's
//     list is empty: it must run everything).
//
// Usage: node scripts/run-tests.mjs [--parallel] [file filter...]
//   EMBCTL_TEST_PASSES=pglite,server,citus   run only the passes named
//   --parallel   run the embedded pass beside the server passes (server,
//                then Citus), two lanes for two cores; the output of each
//                pass is printed when it ends
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
const args = process.argv.slice(2);
const parallel = args.includes('--parallel') || process.env.EMBCTL_TEST_PARALLEL === '1';
const only = args.filter((a) => !a.startsWith('-'));
const strict = process.env.EMBCTL_STRICT_SKIPS === '1';

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
const citus = readCitusFiles();
// Files that need a Citus cluster run in the Citus pass only.
const singleNode = {
  files: files.filter((f) => !(f in citus.only)),
  notRun: Object.entries(citus.only)
    .filter(([file]) => files.includes(file))
    .map(([file, reason]) => ({ file, reason })),
};

const passes = [{ id: 'pglite', name: 'embedded (PGlite)', env: { EMBCTL_TEST_BACKEND: 'pglite' }, ...singleNode }];
if (process.env.TEST_DATABASE_URL) {
  passes.push({
    id: 'server',
    name: `server (${redact(process.env.TEST_DATABASE_URL)})`,
    env: { EMBCTL_TEST_BACKEND: 'postgres' },
    ...singleNode,
  });
} else {
  console.log(
    '# TEST_DATABASE_URL is not set: the server pass does not run (scripts/pg-test-server.sh start gives a server)',
  );
}

// TEST_CITUS_URL_FILE (CI): the cluster is still starting (Citus may be
// building) while the first passes run; the Citus pass waits for
// `<file>.rc`, then reads the URL from the file.
const citusUrlFile = process.env.TEST_CITUS_URL_FILE;
if (process.env.TEST_CITUS_URL || citusUrlFile) {
  passes.push({
    id: 'citus',
    name: 'Citus cluster',
    env: { EMBCTL_TEST_BACKEND: 'citus', TEST_DATABASE_URL: process.env.TEST_CITUS_URL },
    waitForUrlFile: process.env.TEST_CITUS_URL ? undefined : citusUrlFile,
    files: files.filter((f) => citus.files.includes(f) || f in citus.only),
    notRun: citus.notRun.filter((n) => files.includes(n.file)),
  });
} else {
  console.log(
    '# TEST_CITUS_URL is not set: the Citus pass does not run (scripts/citus-test-cluster.sh start gives a cluster)',
  );
}

// EMBCTL_TEST_PASSES=citus (or pglite,server…): run only these passes.
const wanted = process.env.EMBCTL_TEST_PASSES?.split(',').map((p) => p.trim());
if (wanted) passes.splice(0, passes.length, ...passes.filter((p) => wanted.includes(p.id)));

const allowlist = readAllowlist();
const work = mkdtempSync(join(tmpdir(), 'embctl-test-run-'));

const inSequence = (list, buffer) =>
  list.reduce(async (acc, p) => [...(await acc), await runPass(p, buffer)], Promise.resolve([]));
const results = parallel
  ? (
      await Promise.all([
        inSequence(
          passes.filter((p) => p.id === 'pglite'),
          true,
        ),
        inSequence(
          passes.filter((p) => p.id !== 'pglite'),
          true,
        ),
      ])
    ).flat()
  : await inSequence(passes, false);

let failed = false;
const totals = { pass: 0, fail: 0, skipped: 0 };
for (const r of results) {
  if (r.buffered) process.stdout.write(r.buffered);
  report(r);
  totals.pass += r.summary.pass;
  totals.fail += r.summary.fail;
  totals.skipped += r.summary.skipped;
  if (!r.ok) failed = true;
}
rmSync(work, { recursive: true, force: true });
printFailures(results);
console.log(`\n${totals.pass} passed, ${totals.fail} failed, ${totals.skipped} skipped`);
process.exit(failed ? 1 : 0);

/** Wait for a cluster being started elsewhere: `<file>.rc` holds its exit code, `<file>` its URL. */
async function urlFromFile(file) {
  const deadline = Date.now() + 40 * 60_000; // building Citus takes 3-8 minutes
  for (;;) {
    let rc;
    try {
      rc = readFileSync(`${file}.rc`, 'utf8').trim();
    } catch {
      if (Date.now() > deadline) throw new Error(`no cluster after 40 minutes (${file}.rc never appeared)`);
      await new Promise((r) => setTimeout(r, 2000));
      continue;
    }
    if (rc !== '0') throw new Error(`the cluster did not start (exit ${rc}); its log: ${file}.log`);
    return readFileSync(file, 'utf8').trim();
  }
}

async function runPass(pass, buffer) {
  if (pass.waitForUrlFile) {
    try {
      pass.env.TEST_DATABASE_URL = await urlFromFile(pass.waitForUrlFile);
    } catch (e) {
      const summary = {
        pass: 0,
        fail: 1,
        skipped: 0,
        skips: [],
        hiddenSkips: [],
        failures: [{ file: '(none)', name: 'the pass could not start', error: e.message }],
      };
      return { pass, summary, code: 1, signal: null, buffered: `\n# ${pass.name}: ${e.message}\n`, ok: false };
    }
  }
  if (pass.id === 'citus') pass.name = `Citus cluster (${redact(pass.env.TEST_DATABASE_URL ?? '')})`;
  return runPassNow(pass, buffer);
}

function runPassNow(pass, buffer) {
  const summaryFile = join(work, `${pass.id}.json`);
  const nodeArgs = [
    '--import',
    'tsx',
    '--test',
    '--test-reporter=spec',
    '--test-reporter-destination=stdout',
    `--test-reporter=${join(root, 'scripts/summary-reporter.mjs')}`,
    `--test-reporter-destination=${summaryFile}`,
    '--test-concurrency=2',
    ...(pass.files ?? files),
  ];
  if (!buffer) console.log(`\n# ===== test pass: ${pass.name} =====`);
  return new Promise((resolve) => {
    const child = spawn(process.execPath, nodeArgs, {
      cwd: root,
      stdio: buffer ? ['ignore', 'pipe', 'pipe'] : 'inherit',
      env: { ...process.env, ...pass.env },
    });
    let out = buffer ? `\n# ===== test pass: ${pass.name} =====\n` : '';
    if (buffer) {
      child.stdout.on('data', (d) => (out += d));
      child.stderr.on('data', (d) => (out += d));
    }
    child.on('close', (code, signal) => {
      let summary = { pass: 0, fail: 0, skipped: 0, skips: [], hiddenSkips: [], failures: [] };
      try {
        summary = JSON.parse(readFileSync(summaryFile, 'utf8'));
      } catch {
        /* the reporter did not finish */
      }
      if ((code !== 0 || signal) && summary.fail === 0) {
        summary.fail = 1;
        summary.failures.push({
          file: '(none)',
          name: 'the test runner',
          error: `exited with ${signal ?? `code ${code}`} and no failed test`,
        });
      }
      resolve({ pass, summary, code, signal, buffered: out, ok: code === 0 });
    });
  });
}

function report(r) {
  const { pass, summary } = r;
  const problems = [];
  if (pass.notRun?.length) {
    // Files this pass does not run count as what they are: not run, with why.
    console.log(`# ${pass.name}: ${pass.notRun.length} test files not run on this pass, and why`);
    for (const n of pass.notRun) console.log(`#   ${n.file}: ${n.reason}`);
  }
  if (summary.skips.length) {
    console.log(`# ${pass.name}: skipped tests and why`);
    for (const s of summary.skips) console.log(`#   ${s.file} › ${s.name}: ${s.reason || '(no reason given)'}`);
  }
  for (const h of summary.hiddenSkips) {
    problems.push(
      `${h.file} › ${h.name}: a skipped describe hides how many tests it holds; skip its tests instead (${h.reason || 'no reason given'})`,
    );
  }
  for (const s of summary.skips) if (!s.reason) problems.push(`${s.file} › ${s.name}: skipped without a reason`);
  if (strict) {
    const allowed = allowlist[pass.id] ?? [];
    for (const s of summary.skips) {
      if (!allowed.some((a) => a.file === s.file && a.test === s.name)) {
        problems.push(
          `${s.file} › ${s.name}: skipped on the ${pass.id} pass and not in test/skip-allowlist.json (${s.reason || 'no reason'})`,
        );
      }
    }
    for (const a of allowed) {
      if (!summary.skips.some((s) => a.file === s.file && a.test === s.name)) {
        console.log(
          `# note: allowlisted skip did not happen on the ${pass.id} pass (remove it?): ${a.file} › ${a.test}`,
        );
      }
    }
  }
  for (const p of problems) console.log(`# FAIL ${p}`);
  if (problems.length) {
    r.ok = false;
    summary.fail += problems.length;
    for (const p of problems) summary.failures.push({ file: '(skips)', name: 'skip check', error: p });
  }
  console.log(`# ${pass.name}: ${summary.pass} passed, ${summary.fail} failed, ${summary.skipped} skipped`);
}

function readAllowlist() {
  const path = join(root, 'test/skip-allowlist.json');
  const parsed = JSON.parse(readFileSync(path, 'utf8'));
  const out = {};
  for (const [passId, entries] of Object.entries(parsed)) {
    if (passId.startsWith('$')) continue;
    out[passId] = entries.map((e, i) => {
      if (
        typeof e.file !== 'string' ||
        typeof e.test !== 'string' ||
        typeof e.reason !== 'string' ||
        !e.reason.trim()
      ) {
        throw new Error(`test/skip-allowlist.json: ${passId}[${i}] needs file, test and reason`);
      }
      return e;
    });
  }
  return out;
}

/**
 * test/citus-files.json: the files of the Citus pass, and every other test
 * file with the reason it is not run there. A file in neither list fails the
 * run: a new test file must say whether it belongs on Citus.
 */
function readCitusFiles() {
  const parsed = JSON.parse(readFileSync(join(root, 'test/citus-files.json'), 'utf8'));
  const all = findTests(join(root, 'test'));
  const notRun = Object.entries(parsed.notRun).map(([file, reason]) => ({ file, reason }));
  const unlisted = all.filter((f) => !parsed.run.includes(f) && !(f in parsed.notRun) && !(f in parsed.only));
  if (unlisted.length) {
    console.log(
      `# FAIL test/citus-files.json says neither whether nor why not to run on Citus: ${unlisted.join(', ')}`,
    );
    process.exit(1);
  }
  return { files: parsed.run, notRun, only: parsed.only };
}

function redact(url) {
  return url.replace(/(:\/\/[^:/@]+:)[^@]+@/, '$1***@');
}

/**
 * Every failed test of every pass again, with the first lines of its error,
 * at the very end: a CI log that keeps only its tail still says why.
 */
function printFailures(results) {
  const failures = results.flatMap((r) => r.summary.failures.map((f) => ({ pass: r.pass.name, ...f })));
  if (!failures.length) return;
  console.log('\n# failed tests, every pass (the first lines of each error):');
  for (const f of failures) {
    console.log(`# ${f.pass} › ${f.file} › ${f.name}`);
    for (const line of f.error.split('\n')) console.log(`#     ${line}`);
  }
}
