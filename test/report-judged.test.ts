import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import type { Kysely } from 'kysely';
import type { DB } from '../src/db/schema.js';
import { recordCalibration } from '../src/judgments/index.js';
import { loadReportModel, renderReport, type ReportModel } from '../src/upgrade-report/index.js';
import { freshDb, type TestDb } from './support/db.js';

// The judged coverage part of the report's evaluation section, read from stored runs (both backends):
// runs with `metrics.labels` show Judged@K before/after, the top K's label sources and each judge's κ
// (with its latest judge_calibrations row); older runs show nothing new unless Judged@10 is low.

const EVIL = `<script>alert("pwned")</script><img src=x onerror=alert(1)>`;
const CROSS = 'cross-encoder:tiny-cross-encoder@8ff3bfd7aaa7/t=-4.179,-1.978,2.057';
const LLM = `openai:${EVIL}`;
const T0 = Date.parse('2025-03-03T09:00:00Z');
const at = (hours: number) => new Date(T0 + hours * 3_600_000);
const sha = (s: string) => createHash('sha256').update(s).digest('hex');

async function addVersion(k: Kysely<DB>, key: string, active: boolean): Promise<number> {
  const r = await k
    .insertInto('embedding_versions')
    .values({
      version_key: key,
      encoder_spec: `hash:${key}`,
      encoder_name: `hash:${key}`,
      encoder_revision: sha(key).slice(0, 40),
      encoder_settings: JSON.stringify({}),
      encoder_identity: sha(`hash:${key}`),
      dimensions: 64,
      distance_metric: 'cosine',
      index_kind: 'hnsw',
      index_params: JSON.stringify({ m: 16, ef_construction: 64 }),
      index_storage: 'vector',
      state: 'ready',
      active,
      created_at: at(active ? 0 : 1),
    })
    .returning('id')
    .executeTakeFirstOrThrow();
  return r.id;
}

const aggregate = (values: Record<string, number>) => ({ queries: 40, values });

/** A run's `metrics` as src/evaluate/record.ts writes them; `labels` only when given (older runs had none). */
function metrics(judged: number, labels?: unknown) {
  const summary = (version: string, ndcg: number, j: number) => ({
    version,
    overall: aggregate({ 'nDCG@10': ndcg, 'Judged@10': j }),
    segments: {
      faq: { queries: 20, values: { 'nDCG@10': ndcg + 0.01, 'Judged@10': j } },
      howto: { queries: 20, values: { 'nDCG@10': ndcg - 0.01, 'Judged@10': j } },
    },
  });
  return {
    ...summary('v2', 0.61, judged),
    key_kind: 'document_id',
    ks: [10],
    run_depth: 10,
    short_queries: 0,
    baseline: summary('v1', 0.58, 0.5),
    comparisons: [],
    gates_source: null,
    timings_ms: { retrieveMs: 10, scoreMs: 1 },
    ...(labels ? { labels } : {}),
  };
}

const LABELS = {
  judges: [CROSS, LLM],
  counts: { 'judged-set': 40, human: 6, [CROSS]: 120, [LLM]: 30 },
  judged_only: true,
  coverage: {
    candidate: {
      k: 10,
      before: 0.16,
      after: 1,
      segments: [
        { segment: 'faq', before: 0.2, after: 1 },
        { segment: 'howto', before: 0.12, after: 1 },
      ],
      sources: { 'judged-set': 0.16, [CROSS]: 0.6, [LLM]: 0.19, human: 0.05, unjudged: 0 },
    },
    baseline: {
      k: 10,
      before: 0.5,
      after: 0.9,
      segments: [
        { segment: 'faq', before: 0.55, after: 0.95 },
        { segment: 'howto', before: 0.45, after: 0.85 },
      ],
      sources: { 'judged-set': 0.5, [CROSS]: 0.3, human: 0.1, unjudged: 0.1 },
    },
  },
  kappas: { [CROSS]: 0.71, [LLM]: null },
};

async function addRun(k: Kysely<DB>, v2: number, v1: number, m: unknown, hours: number): Promise<void> {
  await k
    .insertInto('evaluation_runs')
    .values({
      embedding_version_id: v2,
      baseline_version_id: v1,
      judged_set_name: 'tickets',
      judged_set_sha256: sha('tickets'),
      gated: false,
      passed: null,
      metrics: JSON.stringify(m),
      per_query: JSON.stringify([]),
      gates: JSON.stringify([]),
      actor: 'ana',
      created_at: at(hours),
    })
    .execute();
}

/** The judged coverage part of the page: from its heading to the gates' note. */
function judgedPart(html: string): string {
  const m = html.match(/<h3>Judged coverage<\/h3>([\s\S]*?)<p class="muted">This run had no gates/);
  assert.ok(m, 'a Judged coverage part');
  return m[1]!;
}

describe('upgrade report: judged coverage', () => {
  let db: TestDb;
  let v1: number;
  let v2: number;
  let model: ReportModel;
  let html: string;

  before(async () => {
    db = await freshDb();
    const k = db.kysely;
    v1 = await addVersion(k, 'v1', true);
    v2 = await addVersion(k, 'v2', false);
    await addRun(k, v2, v1, metrics(0.16, LABELS), 2);
    const calibration = {
      judgeBase: 'cross-encoder:tiny-cross-encoder@8ff3bfd7aaa7',
      judgeSpec: 'cross-encoder:test/fixtures/tiny-cross-encoder',
      judgedSetName: 'tickets-human',
      judgedSetSha256: sha('tickets-human'),
      thresholds: [-4.179, -1.978, 2.057],
      details: {},
      actor: 'ana',
    };
    // An older calibration first: the report shows the latest one.
    await recordCalibration(k, { ...calibration, judge: CROSS, pairs: 50, kappa: 0.5, accuracy: 0.6, kendallTau: 0.2 });
    await recordCalibration(k, {
      ...calibration,
      judge: CROSS,
      pairs: 200,
      kappa: 0.7432,
      accuracy: 0.8125,
      kendallTau: 0.6667,
    });
    model = await loadReportModel(db, { now: at(3) });
    html = renderReport(model);
  });
  after(async () => {
    await db?.destroy();
  });

  test('the model reads the labels and fills the latest calibration of each judge', () => {
    const l = model.evaluation?.labels;
    assert.ok(l, 'labels read');
    assert.deepEqual(l.allowedJudges, [CROSS, LLM]);
    assert.equal(l.judgedOnly, true);
    assert.deepEqual(
      { k: l.candidate.k, before: l.candidate.before, after: l.candidate.after },
      { k: 10, before: 0.16, after: 1 },
    );
    assert.deepEqual(
      l.candidate.sources.map((s) => [s.source, s.kind, s.share]),
      [
        ['judged-set', 'judged-set', 0.16],
        ['human', 'human', 0.05],
        [CROSS, 'judge', 0.6],
        [LLM, 'judge', 0.19],
        ['unjudged', 'unjudged', 0],
      ],
    );
    assert.equal(l.baseline?.after, 0.9);
    const [cross, llm] = [l.judges.find((j) => j.judge === CROSS), l.judges.find((j) => j.judge === LLM)];
    assert.deepEqual(
      {
        labels: cross?.labels,
        kappa: cross?.kappa,
        cal: cross?.calibration && { ...cross.calibration, createdAt: '' },
      },
      {
        labels: 120,
        kappa: 0.71,
        cal: {
          kappa: 0.7432,
          accuracy: 0.8125,
          kendallTau: 0.6667,
          pairs: 200,
          judgedSet: 'tickets-human',
          createdAt: '',
        },
      },
    );
    assert.deepEqual(
      { labels: llm?.labels, kappa: llm?.kappa, cal: llm?.calibration },
      { labels: 30, kappa: null, cal: null },
    );
  });

  test('the HTML shows Judged@10 before and after per version and segment', () => {
    const part = judgedPart(html);
    const row = (name: string) => {
      const m = part.match(new RegExp(`<th scope="row">${name}</th>(.*?)</tr>`));
      assert.ok(m, `row ${name}`);
      return [...m[1]!.matchAll(/<td class="num[^"]*"[^>]*>(?:<strong>)?([^<]*)/g)].map((x) => x[1]);
    };
    // candidate: judged set, with judgments, gain; then the baseline's.
    assert.deepEqual(row('overall'), ['0.160', '1.000', '+0.840', '0.500', '0.900', '+0.400']);
    assert.deepEqual(row('faq'), ['0.200', '1.000', '+0.800', '0.550', '0.950', '+0.400']);
    assert.deepEqual(row('howto'), ['0.120', '1.000', '+0.880', '0.450', '0.850', '+0.400']);
    assert.match(part, /v2 <span class="muted">candidate<\/span>/);
    assert.match(part, /v1 <span class="muted">baseline<\/span>/);
    assert.match(part, /<code>--judged-only<\/code>/);
    // Judged@10 after pooling is 1.0: no "mostly unjudged" warning.
    assert.doesNotMatch(html, /most of its top 10 is unjudged/);
  });

  test('the HTML shows each version’s top 10 by label source, as numbers and as a stacked bar', () => {
    const part = judgedPart(html);
    const shares = (label: string) => {
      const m = part.match(
        new RegExp(
          `<tr><th scope="row" style="white-space:normal"><span class="dot"[^>]*></span>${label}</th>(.*?)</tr>`,
        ),
      );
      assert.ok(m, `source ${label}`);
      return [...m[1]!.matchAll(/<td class="num seg">(?:<span class="muted">)?([^<]*)/g)].map((x) => x[1]);
    };
    assert.deepEqual(shares('judged set'), ['16.0%', '50.0%']);
    assert.deepEqual(shares('human labels'), ['5.0%', '10.0%']);
    assert.deepEqual(shares(`<code>${CROSS}</code>`), ['60.0%', '30.0%']);
    assert.deepEqual(shares('unjudged'), ['0.0%', '10.0%']);
    // The LLM judge labelled none of the baseline's top 10: no share, a dash.
    assert.deepEqual(
      shares(
        '<code>openai:&lt;script&gt;alert\\(&quot;pwned&quot;\\)&lt;/script&gt;&lt;img src=x onerror=alert\\(1\\)&gt;</code>',
      ),
      ['19.0%', '–'],
    );
    const bars = [...part.matchAll(/<svg [^>]*role="img"[^>]*>([\s\S]*?)<\/svg>/g)].map((m) => m[1]!);
    assert.equal(bars.length, 2, 'one bar per version');
    // Candidate: judged set, human, two judges (unjudged is 0, not drawn); baseline: judged set, human, one judge, unjudged.
    assert.equal((bars[0]!.match(/<rect class="bar"/g) ?? []).length, 4);
    assert.equal((bars[1]!.match(/<rect class="bar"/g) ?? []).length, 4);
    assert.match(bars[0]!, /<title>judged set: 16\.0%<\/title>/);
    assert.match(bars[1]!, /<title>unjudged: 10\.0%<\/title>/);
  });

  test('the HTML shows each judge’s κ from the run and its latest calibration', () => {
    const part = judgedPart(html);
    const judges = part.match(/<table class="judges">[\s\S]*?<\/table>/)?.[0];
    assert.ok(judges, 'judges table');
    const cross = judges.match(
      new RegExp(`<td><code>${CROSS.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}</code></td>(.*?)</tr>`),
    );
    assert.ok(cross, 'cross-encoder row');
    const cells = [...cross[1]!.matchAll(/<td class="num[^"]*">(?:<strong>)?([^<]*)/g)].map((x) => x[1]);
    assert.deepEqual(cells, ['120', '0.710', '0.743', '0.813', '0.667', '200']);
    assert.match(cross[1]!, /tickets-human/);
    const llm = judges.match(/<td><code>openai:[^<]*<\/code><\/td>(.*?)<\/tr>/);
    assert.ok(llm, 'llm row');
    assert.match(llm[1]!, /not calibrated/);
    assert.match(llm[1]!, /never calibrated/);
  });

  test('everything from the stored labels is escaped', () => {
    assert.doesNotMatch(html, /<script/i);
    assert.doesNotMatch(html, /<img/i);
    assert.match(html, /openai:&lt;script&gt;alert\(&quot;pwned&quot;\)&lt;\/script&gt;/);
  });

  test('a mostly unjudged top 10 even after pooling is said, with the command that judges it', () => {
    const e = model.evaluation!;
    const low = { ...e, labels: { ...e.labels!, candidate: { ...e.labels!.candidate, after: 0.3 } } };
    const out = renderReport({ ...model, evaluation: low });
    assert.match(
      out,
      /Judged@10 of v2 is 0\.300:<\/strong> most of its top 10 is unjudged[^<]*<code>embctl judge --version v2 --baseline v1 --judge &lt;spec&gt;<\/code>/,
    );
  });

  test('an older run without labels: no judged coverage part; a note only when Judged@10 is below 0.5', async () => {
    const e = model.evaluation!;
    const older = renderReport({ ...model, evaluation: { ...e, labels: null } });
    assert.doesNotMatch(older, /Judged coverage/);
    // The candidate's stored Judged@10 is 0.16: one line pointing to embctl judge.
    assert.equal((older.match(/most of its top 10 is unjudged/g) ?? []).length, 1);
    assert.match(older, /Judged@10 of v2 is 0\.160:/);
    // Judged@10 of 0.5 or more: the section is what it was before runs had labels.
    const judged = {
      ...e,
      labels: null,
      segments: e.segments.map((s) => ({
        ...s,
        metrics: s.metrics.map((m) => (m.metric === 'Judged@10' ? { ...m, candidate: 0.5 } : m)),
      })),
    };
    const plain = renderReport({ ...model, evaluation: judged });
    assert.doesNotMatch(plain, /Judged coverage|unjudged|embctl judge/);
    // The same through the database: a later run recorded without labels is read with labels null.
    await addRun(db.kysely, v2, v1, metrics(0.16), 4);
    const reloaded = await loadReportModel(db, { now: at(5) });
    assert.equal(reloaded.evaluation?.labels, null);
    const page = renderReport(reloaded);
    assert.doesNotMatch(page, /Judged coverage/);
    assert.match(page, /Judged@10 of v2 is 0\.160:<\/strong> most of its top 10 is unjudged/);
  });
});
