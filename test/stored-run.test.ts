import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { sql } from 'kysely';
import { InputError } from '../src/errors.js';
import { recordEvaluation, type VersionEvaluation } from '../src/evaluate/index.js';
import { parseStoredRun } from '../src/evaluate/stored-run.js';
import { adaptEvaluation, loadReportModel } from '../src/upgrade-report/index.js';
import type { VersionRow } from '../src/versions/store.js';
import { freshDb, type TestDb } from './support/db.js';
import { register } from './support/fill-version.js';

let db: TestDb;
let v1: VersionRow;
let v2: VersionRow;

before(async () => {
  db = await freshDb();
  v1 = await register(db, { key: 'v1', encoder: 'hash:words-256' });
  v2 = await register(db, { key: 'v2', encoder: 'hash:words-256' });
});
after(async () => {
  await db?.destroy();
});

const values = (x: number) => ({ ndcg_cut_10: x, recip_rank: Math.min(1, x + 0.1) });

function evaluation(v: VersionRow, shift: number): VersionEvaluation {
  const perQuery = Array.from({ length: 6 }, (_, i) => ({
    id: `q${i}`,
    segment: i % 2 ? 'faq' : 'howto',
    values: values(0.4 + i / 20 + shift),
  }));
  const m = (list: typeof perQuery) => values(list.reduce((a, q) => a + q.values.ndcg_cut_10, 0) / list.length);
  const seg = (s: string) => perQuery.filter((q) => q.segment === s);
  return {
    version: { id: v.id, key: v.version_key, encoder: v.encoder_spec },
    judgedSet: { name: 'tickets', sha256: 'a'.repeat(64), keyKind: 'document_id', source: 'tickets.jsonl', queries: 6 },
    ks: [10],
    measures: ['recip_rank', 'ndcg_cut_10'],
    runDepth: 10,
    overall: { segment: 'all', queries: 6, values: m(perQuery) },
    segments: ['faq', 'howto'].map((s) => ({ segment: s, queries: 3, values: m(seg(s)) })),
    perQuery,
    run: new Map(perQuery.map((q) => [q.id, [{ docno: `doc-${q.id}`, score: 1 }]])),
    shortQueries: 0,
    timings: { retrieveMs: 5, scoreMs: 1 },
  } as VersionEvaluation;
}

async function storedRow(id: number) {
  return db.kysely
    .selectFrom('evaluation_runs')
    .select(['id', 'metrics', 'per_query', 'gates'])
    .where('id', '=', id)
    .executeTakeFirstOrThrow();
}

/** Inserts a run of v2 against v1 (so the report picks it) whose JSON columns are given as JSON text, with plain SQL. */
async function insertRaw(metrics: string, perQuery: string, gates: string): Promise<number> {
  const { rows } = await sql<{ id: number }>`
    insert into evaluation_runs (embedding_version_id, baseline_version_id, judged_set_name, judged_set_sha256, gated, passed, metrics, per_query, gates, actor)
    values (${v2.id}, ${v1.id}, 'tickets', ${'b'.repeat(64)}, false, null, ${metrics}::jsonb, ${perQuery}::jsonb, ${gates}::jsonb, 'tester')
    returning id`.execute(db.kysely);
  return Number(rows[0]!.id);
}

describe('stored evaluation runs: one schema for the writer and the reader', () => {
  test('what recordEvaluation writes parses back, and the report reads it', async () => {
    const row = await recordEvaluation(db.kysely, {
      candidate: evaluation(v2, 0.05),
      baseline: evaluation(v1, 0),
      gated: false,
      actor: 'tester',
    });
    const run = parseStoredRun(await storedRow(Number(row.id)), 'v2');
    assert.equal(run.runId, Number(row.id));
    assert.equal(run.metrics.version, 'v2');
    assert.equal(run.metrics.key_kind, 'document_id');
    assert.deepEqual(Object.keys(run.metrics.segments), ['faq', 'howto']);
    assert.equal(run.metrics.overall.queries, 6);
    assert.equal(run.metrics.baseline?.version, 'v1');
    assert.deepEqual(
      run.perQuery.map((q) => q.id),
      ['q0', 'q1', 'q2', 'q3', 'q4', 'q5'],
    );
    assert.deepEqual(run.perQuery[0]!.top, ['doc-q0']);
    assert.equal(run.perQuery[0]!.values['nDCG@10'], 0.45);
    assert.equal(run.perQuery[0]!.baseline?.['nDCG@10'], 0.4);
    assert.deepEqual(run.gates, []);
    const adapted = adaptEvaluation(run);
    assert.deepEqual(adapted.metricNames, ['MRR', 'nDCG@10']);
    assert.deepEqual(
      adapted.segments.map((s) => [s.segment, s.queries]),
      [
        ['overall', 6],
        ['faq', 3],
        ['howto', 3],
      ],
    );
    const o = adapted.segments[0]!.metrics.find((m) => m.metric === 'nDCG@10')!;
    assert.ok(Math.abs(o.delta! - 0.05) < 1e-9, `delta ${o.delta}`);
    assert.ok(o.deltaCi, 'a paired interval from the stored per-query scores');
  });

  test('a row of another shape is refused with one line naming the run and what to do', async () => {
    const good = parseStoredRun(
      await storedRow(
        Number((await db.kysely.selectFrom('evaluation_runs').select('id').orderBy('id').executeTakeFirstOrThrow()).id),
      ),
    );
    const metrics = JSON.stringify(good.metrics);
    const perQuery = JSON.stringify(good.perQuery);
    const { overall: _missing, ...noOverall } = good.metrics;
    const cases: [string, string, string, RegExp][] = [
      ['"a string"', perQuery, '[]', /\(metrics: /],
      [JSON.stringify(noOverall), perQuery, '[]', /\(metrics\.overall: /],
      [
        metrics,
        JSON.stringify([{ id: 'q0', segment: 'faq', values: { 'nDCG@10': 'high' }, top: [] }]),
        '[]',
        /\(per_query\.0\.values\.nDCG@10: /,
      ],
      [metrics, perQuery, JSON.stringify([{ name: 'no status' }]), /\(gates\.0\.\w+: .*; \d+ more\)/],
      ['{}', '[]', '[]', /\(metrics\.\w+: .*; \d+ more\)/],
    ];
    for (const [m, q, g, where] of cases) {
      const id = await insertRaw(m, q, g);
      await assert.rejects(loadReportModel(db, { candidate: 'v2' }), (e: unknown) => {
        assert.ok(e instanceof InputError, String(e));
        assert.match(e.message, new RegExp(`^evaluation run ${id} was stored in a shape this embctl cannot read`));
        assert.match(e.message, where);
        assert.match(e.message, /re-run `embctl evaluate --version v2` to record it again$/);
        assert.doesNotMatch(e.message, /\n/);
        assert.ok(e.details.length >= 1);
        return true;
      });
      await db.kysely.deleteFrom('evaluation_runs').where('id', '=', id).execute();
    }
    // With the bad rows gone, the report reads the good run again.
    const model = await loadReportModel(db, { candidate: 'v2' });
    assert.deepEqual(model.evaluation?.skipped, []);
    assert.equal(model.evaluation?.baselineKey, 'v1');
  });

  test('JSON given as text (as some drivers return it) parses the same', () => {
    const metrics = {
      version: null,
      overall: { queries: 1, values: { MRR: null } },
      segments: {},
      key_kind: 'semantic_key',
      ks: [10],
      run_depth: 10,
      short_queries: 0,
      baseline: null,
      comparisons: [],
      gates_source: null,
      timings_ms: { retrieveMs: 1, scoreMs: 1 },
    };
    const run = parseStoredRun({ id: '9', metrics: JSON.stringify(metrics), per_query: '[]', gates: '[]' });
    assert.equal(run.runId, 9);
    assert.deepEqual(
      run.metrics.overall.values,
      { MRR: null },
      'a NaN stored as null is a missing value, not an error',
    );
    assert.throws(
      () => parseStoredRun({ id: 9, metrics: 'not json', per_query: '[]', gates: '[]' }),
      /^InputError: evaluation run 9 .*\(metrics: /,
    );
  });
});
