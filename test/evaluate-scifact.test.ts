import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SCIFACT_DIR, SCIFACT_SKIP } from './support/data.js';
import { freshDb, BACKEND, type TestDb } from './support/db.js';
import { fillVersion, register } from './support/fill-version.js';
import { createExactRetriever } from './support/exact-retriever.js';
import { runCli, targetEnv } from './support/cli.js';
import { xmlProblems } from './support/xml-check.js';
import { ingest } from '../src/ingest/index.js';
import { silentLogger } from '../src/log/logger.js';
import { openDatabase } from '../src/db/open.js';
import { evaluateRun, readRunFile } from '../src/trec/index.js';
import { judgedSetQrels, loadJudgedSet, type JudgedSet } from '../src/judged-set/index.js';
import {
  applyGates,
  evaluateVersion,
  latestGatedRun,
  parseGates,
  recordEvaluation,
  renderMarkdown,
  compareEvaluations,
  type VersionEvaluation,
} from '../src/evaluate/index.js';
import { requireVersion, type VersionRow } from '../src/versions/store.js';

// BEIR SciFact, read in place (EMBCTL_SCIFACT_DIR; never copied): 5,183 abstracts (~10.4k chunks), 300 judged test queries.
// The whole corpus is used: on PGlite, exact search of 300 queries over 10.4k vectors takes ~10 s (384-d).
const SCIFACT = SCIFACT_DIR;
const CORPUS = join(SCIFACT, 'corpus.jsonl');
const GATES = { gates: [{ name: 'no nDCG@10 regression', metric: 'nDCG@10', max_drop: 0.01 }] };

let db: TestDb;
let dir: string;
let set: JudgedSet;
let strong: VersionRow;
let weak: VersionRow;
let strongEval: VersionEvaluation;
let weakEval: VersionEvaluation;

const secs = (t: number) => ((performance.now() - t) / 1000).toFixed(1);

before(async () => {
  if (SCIFACT_SKIP) return;
  dir = mkdtempSync(join(tmpdir(), 'embctl-eval-scifact-'));
  db = await freshDb();
  const t = performance.now();
  await ingest(db, [CORPUS], {}, { logger: silentLogger() });
  const tIngest = secs(t);
  await register(db, { key: 'mixed384', encoder: 'hash:mixed-384', index: 'none' });
  await register(db, { key: 'words32', encoder: 'hash:words-32', index: 'none' });
  const t2 = performance.now();
  strong = await fillVersion(db, 'mixed384', { index: false });
  weak = await fillVersion(db, 'words32', { index: false });
  await db.kysely.updateTable('embedding_versions').set({ active: true }).where('id', '=', strong.id).execute();
  strong = await requireVersion(db.kysely, 'mixed384');
  set = await loadJudgedSet(SCIFACT);
  process.stderr.write(`# ${BACKEND}: SciFact ingest ${tIngest} s, embed+write both versions ${secs(t2)} s\n`);
});

after(async () => {
  await db?.destroy().catch(() => {});
  if (dir) rmSync(dir, { recursive: true, force: true });
});

test(
  'SciFact: nDCG@10 per version, the relative gate decides with a p-value, the weak version fails',
  { skip: SCIFACT_SKIP },
  async (t) => {
    assert.equal(set.queries.length, 300);
    const retriever = createExactRetriever(db.kysely);
    try {
      let started = performance.now();
      strongEval = await evaluateVersion({ version: strong, judgedSet: set, retriever, ks: [1, 5, 10, 100] });
      t.diagnostic(`${BACKEND}: evaluate hash:mixed-384 (300 queries, exact search) ${secs(started)} s`);
      started = performance.now();
      weakEval = await evaluateVersion({ version: weak, judgedSet: set, retriever, ks: [1, 5, 10, 100] });
      t.diagnostic(`${BACKEND}: evaluate hash:words-32 ${secs(started)} s`);
    } finally {
      await retriever.close();
    }
    const ndcg = (e: VersionEvaluation) => e.overall.values.ndcg_cut_10!;
    t.diagnostic(
      `nDCG@10: hash:mixed-384 ${ndcg(strongEval).toFixed(4)}, hash:words-32 ${ndcg(weakEval).toFixed(4)}; ` +
        `R@100 ${strongEval.overall.values.recall_100!.toFixed(4)} / ${weakEval.overall.values.recall_100!.toFixed(4)}`,
    );
    // A hash helper measured ~0.47 and ~0.05 with exact search (chunking moves these slightly).
    assert.ok(ndcg(strongEval) > 0.42 && ndcg(strongEval) < 0.53, `mixed-384 nDCG@10 ${ndcg(strongEval)}`);
    assert.ok(ndcg(weakEval) > 0.02 && ndcg(weakEval) < 0.1, `words-32 nDCG@10 ${ndcg(weakEval)}`);
    assert.equal(strongEval.overall.queries, 300);
    assert.equal(strongEval.shortQueries, 0);
    for (const q of strongEval.run.values()) assert.equal(q.length, 100, 'every query filled 100 documents');
    assert.equal(strongEval.segments.length, 1);
    assert.equal(strongEval.segments[0]!.segment, '(none)');

    const config = parseGates(JSON.stringify(GATES), 'gates.json');
    const [weakOutcome] = applyGates(weakEval, strongEval, config);
    assert.equal(weakOutcome!.status, 'failed');
    const c = weakOutcome!.comparison!;
    assert.ok(c.pValue < 0.001, `p = ${c.pValue}`);
    assert.ok(c.ciUpper < -0.01, `CI [${c.ciLower}, ${c.ciUpper}]`);
    assert.equal(c.n, 300);
    t.diagnostic(`gate: ${weakOutcome!.message}`);
    const [strongOutcome] = applyGates(strongEval, weakEval, config);
    assert.equal(strongOutcome!.status, 'passed');

    // Recorded with its event; activation reads the latest gated run.
    const row = await recordEvaluation(db.kysely, {
      candidate: weakEval,
      baseline: strongEval,
      outcomes: [weakOutcome!],
      gated: true,
      actor: 'tester',
      comparisons: compareEvaluations(weakEval, strongEval, { resamples: 1000, permutations: 1000 }).filter(
        (x) => x.segment === 'all',
      ),
    });
    assert.equal(row.passed, false);
    assert.equal(row.judged_set_name, 'scifact/test');
    assert.equal(row.judged_set_sha256, set.sha256);
    assert.equal(row.baseline_version_id, strong.id);
    const latest = await latestGatedRun(db.kysely, weak.id);
    assert.equal(Number(latest!.id), Number(row.id));
    const metrics = latest!.metrics as { overall: { values: Record<string, number> } };
    assert.equal(metrics.overall.values['nDCG@10'], ndcg(weakEval));
    assert.equal((latest!.per_query as unknown[]).length, 300);
    const events = await db.kysely
      .selectFrom('version_events')
      .selectAll()
      .where('embedding_version_id', '=', weak.id)
      .orderBy('id')
      .execute();
    assert.equal(events.at(-1)!.event, 'gate_failed');
    assert.equal((events.at(-1)!.details as { evaluation_run_id: number }).evaluation_run_id, Number(row.id));

    const md = renderMarkdown({
      candidate: weakEval,
      baseline: strongEval,
      comparisons: [],
      outcomes: [weakOutcome!],
      gatesSource: 'gates.json',
      alpha: 0.05,
      gated: true,
      passed: false,
      runId: Number(row.id),
    });
    assert.match(md, /❌ FAILED: 1 of 1 gate\(s\) failed/);
    assert.match(md, /^\| nDCG@10 \| 0\.0\d{3} \(-0\.4\d{3}\) \|$/m);
  },
);

test(
  'SciFact via the CLI: exit 1 on the failed gate, Markdown, JUnit and a TREC run that re-scores the same',
  { skip: SCIFACT_SKIP },
  async (t) => {
    assert.ok(weakEval, 'needs the library test');
    const gatesFile = join(dir, 'gates.json');
    writeFileSync(gatesFile, JSON.stringify(GATES));
    const out = {
      md: join(dir, 'out', 'report.md'),
      xml: join(dir, 'out', 'junit.xml'),
      run: join(dir, 'out', 'words32.trec'),
    };
    const env = targetEnv({ url: db.url, homeDir: db.homeDir });
    await db.close(); // PGlite: one process at a time
    const started = performance.now();
    const r = await runCli(
      [
        'evaluate',
        '--version',
        'words32',
        '--judged',
        SCIFACT,
        '--gate',
        '--gates',
        gatesFile,
        '-k',
        '1,5,10,100',
        '--report',
        out.md,
        '--junit',
        out.xml,
        '--export-run',
        out.run,
      ],
      { env: { ...env, EMBCTL_ACTOR: 'ci' } },
    );
    t.diagnostic(`${BACKEND}: CLI evaluate (candidate + baseline) ${secs(started)} s`);
    assert.equal(r.code, 1, r.stderr + r.stdout);
    assert.match(r.stderr, /embctl: gate failed for words32: 1 of 1 gate\(s\) failed/);
    assert.match(r.stderr, /overall nDCG@10 dropped 0\.4\d{3} vs mixed384 .*significant \(p = /);
    assert.match(r.stdout, /^nDCG@10 +0\.0\d{3} \(-0\.4\d{3}\)$/m);
    assert.match(r.stdout, /^FAILED +no nDCG@10 regression/m);

    const md = readFileSync(out.md, 'utf8');
    assert.match(md, /^# embctl evaluation: `words32` on scifact\/test$/m);
    assert.match(
      md,
      /^\| ❌ FAIL \| no nDCG@10 regression \| all \| nDCG@10 \| 0\.0\d{3} \| drop ≤ 0\.01 \(α 0\.05\) \| -0\.4\d{3} \|/m,
    );
    assert.match(md, /^\| Metric \| all \(300\) \|$/m);
    assert.match(md, /Decision rule: /);
    const xml = readFileSync(out.xml, 'utf8');
    assert.deepEqual(xmlProblems(xml), []);
    assert.match(xml, /<failure message="overall nDCG@10 dropped/);

    // The exported run, scored as a TREC file, gives what embctl reported.
    const run = await readRunFile(out.run);
    assert.equal(run.size, 300);
    assert.match(readFileSync(out.run, 'utf8').split('\n')[0]!, /^\S+ Q0 \S+ 1 \S+ embctl-words32$/);
    const rescored = evaluateRun(judgedSetQrels(set), run, {
      completeQueries: true,
      measures: ['nDCG@10', 'MRR', 'R@100'],
    });
    for (const m of ['ndcg_cut_10', 'recip_rank', 'recall_100']) {
      assert.ok(
        Math.abs(rescored.all[m]! - weakEval.overall.values[m]!) < 1e-12,
        `${m}: ${rescored.all[m]} vs ${weakEval.overall.values[m]}`,
      );
    }

    const db2 = await openDatabase({ databaseUrl: db.url, homeDir: db.homeDir, logger: silentLogger() });
    try {
      const latest = await latestGatedRun(db2.kysely, weak.id);
      assert.equal(latest!.passed, false);
      assert.equal(latest!.actor, 'ci');
      assert.equal(latest!.baseline_version_id, strong.id);
      const gates = latest!.gates as { status: string; comparison: { pValue: number } }[];
      assert.equal(gates[0]!.status, 'failed');
      assert.ok(gates[0]!.comparison.pValue < 0.001);
    } finally {
      await db2.close();
    }
    assert.ok(existsSync(out.run));
  },
);
