import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { freshDb, BACKEND, type TestDb } from './support/db.js';
import { fillVersion, register } from './support/fill-version.js';
import { createExactRetriever } from './support/exact-retriever.js';
import { ingest } from '../src/ingest/index.js';
import { silentLogger } from '../src/log/logger.js';
import { loadJudgedSet, type JudgedSet } from '../src/judged-set/index.js';
import { latestGatedRun, readGatesFile, runEvaluation, type GatesConfig } from '../src/evaluate/index.js';
import type { VersionRow } from '../src/versions/store.js';

// The worked example: evals/gates.json on the demo corpus and judged set.
const CORPUS = fileURLToPath(new URL('../examples/demo/corpus.jsonl', import.meta.url));
const JUDGED = fileURLToPath(new URL('../evals/demo.judged.jsonl', import.meta.url));
const GATES = fileURLToPath(new URL('../evals/gates.json', import.meta.url));

let db: TestDb;
let set: JudgedSet;
let gates: GatesConfig;
const v: Record<string, VersionRow> = {};

before(async () => {
  db = await freshDb();
  await ingest(db, [CORPUS], {}, { logger: silentLogger() });
  for (const [key, encoder] of [
    ['v1', 'hash:words-256'],
    ['v2', 'hash:mixed-1536'],
    ['weak', 'hash:words-32'],
  ] as const) {
    await register(db, { key, encoder, index: 'none' });
    v[key] = await fillVersion(db, key, { index: false });
  }
  set = await loadJudgedSet(JUDGED);
  gates = await readGatesFile(GATES);
});
after(async () => db?.destroy());

test('demo gates: relative gates skip without a baseline; v2 passes against active v1; the weak version fails', async (t) => {
  const retriever = createExactRetriever(db.kysely);
  const run = (candidate: VersionRow, baseline: VersionRow | null) =>
    runEvaluation(db, {
      candidate,
      baseline,
      judgedSet: set,
      retriever,
      gates,
      gated: true,
      actor: 'tester',
    });
  try {
    // No active version yet: v1 is gated on its absolute gates only.
    const first = await run(v.v1!, null);
    assert.deepEqual(
      first.outcomes.map((o) => o.status),
      ['skipped', 'passed', 'passed', 'passed'],
    );
    assert.equal(first.passed, true);
    assert.equal(first.baseline, null);
    await db.kysely.updateTable('embedding_versions').set({ active: true }).where('id', '=', v.v1!.id).execute();

    const started = performance.now();
    const up = await run(v.v2!, v.v1!);
    t.diagnostic(
      `${BACKEND}: demo candidate + baseline + gates + record in ${((performance.now() - started) / 1000).toFixed(1)} s`,
    );
    assert.equal(up.passed, true, up.outcomes.map((o) => o.message).join('\n'));
    const rel = up.outcomes[0]!;
    assert.ok(rel.comparison!.delta > 0.1, `v2 improves nDCG@10: ${rel.message}`);
    assert.ok(rel.comparison!.pValue < 0.01);
    assert.deepEqual(
      up.candidate.segments.map((s) => [s.segment, s.queries]),
      [
        ['invoices', 24],
        ['policies', 24],
        ['products', 25],
        ['support', 25],
      ],
    );
    assert.ok(up.comparisons.some((c) => c.segment === 'invoices' && c.metric === 'ndcg_cut_10'));

    const down = await run(v.weak!, v.v1!);
    assert.equal(down.passed, false);
    assert.deepEqual(
      down.outcomes.map((o) => o.status),
      ['failed', 'failed', 'failed', 'failed'],
    );
    t.diagnostic(down.outcomes.map((o) => o.message).join('\n'));
  } finally {
    await retriever.close();
  }
  const passed = await latestGatedRun(db.kysely, v.v2!.id);
  assert.equal(passed!.passed, true);
  assert.equal(passed!.baseline_version_id, v.v1!.id);
  assert.equal(passed!.judged_set_name, 'demo');
  const failed = await latestGatedRun(db.kysely, v.weak!.id);
  assert.equal(failed!.passed, false);
  const events = await db.kysely
    .selectFrom('version_events')
    .select(['version_key', 'event', 'reason'])
    .where('event', 'in', ['gate_passed', 'gate_failed'])
    .orderBy('id')
    .execute();
  assert.deepEqual(
    events.map((e) => [e.version_key, e.event]),
    [
      ['v1', 'gate_passed'],
      ['v2', 'gate_passed'],
      ['weak', 'gate_failed'],
    ],
  );
  assert.match(events[2]!.reason!, /^4 of 4 gate\(s\) failed on demo: /);
});
