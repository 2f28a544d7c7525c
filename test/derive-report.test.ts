import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { sql } from 'kysely';
import { freshDb, ON_CITUS, type TestDb } from './support/db.js';
import { fillVersion, register } from './support/fill-version.js';
import { ingest } from '../src/ingest/index.js';
import { silentLogger } from '../src/log/logger.js';
import { loadJudgedSet, type JudgedSet } from '../src/judged-set/index.js';
import { createSearchRetriever, runEvaluation, type Retriever } from '../src/evaluate/index.js';
import { deriveVersion } from '../src/derive/index.js';
import { loadReportModel, renderReport } from '../src/upgrade-report/index.js';
import { requireVersion } from '../src/versions/store.js';

// The upgrade report puts every live version on one chart (issue 16): bytes
// per vector, nDCG@10 of its latest evaluation on the report's judged set,
// and the p50 search time that evaluation recorded. A parent and two derived
// versions, evaluated for real on the demo set, on both backends; the values
// are parsed back out of the rendered HTML.

const CORPUS = fileURLToPath(new URL('../examples/demo/corpus.jsonl', import.meta.url));
const JUDGED = fileURLToPath(new URL('../evals/demo.judged.jsonl', import.meta.url));
const logger = silentLogger();
const DIMS = 1536;

let db: TestDb;
let set: JudgedSet;
let retriever: Retriever & { close(): Promise<void> };

before(async () => {
  db = await freshDb();
  await ingest(db, [CORPUS], {}, { logger });
  await register(db, { key: 'v2', encoder: `hash:mixed-${DIMS}`, canary: false });
  await fillVersion(db, 'v2');
  await deriveVersion(db, { key: 'v2-half', from: 'v2', storage: 'halfvec' }, { actor: 'tester', logger });
  await deriveVersion(db, { key: 'v2-bit', from: 'v2', storage: 'bit', rerank: 50 }, { actor: 'tester', logger });
  set = await loadJudgedSet(JUDGED);
  retriever = createSearchRetriever(db, { logger });
});
after(async () => {
  await retriever?.close();
  await db?.destroy();
});

interface ChartPoint {
  version: string;
  bytes: number;
  ndcg: number;
  p50: number;
}

/** The points of the tradeoff figure, read from their data attributes. */
function chartPoints(html: string): ChartPoint[] {
  const fig = html.match(/<figure class="chart-figure" data-chart="versions-tradeoff">([\s\S]*?)<\/figure>/);
  assert.ok(fig, 'the versions-tradeoff figure is drawn (not empty)');
  return [...fig[1]!.matchAll(/<g class="point"([^>]*)>/g)].map((m) => {
    const attr = (name: string) => {
      const a = new RegExp(` data-${name}="([^"]*)"`).exec(m[1]!);
      assert.ok(a, `data-${name} on ${m[1]}`);
      return a[1]!;
    };
    return {
      version: attr('version'),
      bytes: Number(attr('bytes-per-vector')),
      ndcg: Number(attr('ndcg10')),
      p50: Number(attr('p50-ms')),
    };
  });
}

test('the report draws one point per version: bytes/vector, nDCG@10 of its latest run, p50 of that run', async () => {
  const row = (key: string) => requireVersion(db.kysely, key);
  const eval1 = await runEvaluation(db, { candidate: await row('v2'), judgedSet: set, retriever, actor: 'tester' });
  const half = await runEvaluation(db, {
    candidate: await row('v2-half'),
    baseline: await row('v2'),
    judgedSet: set,
    retriever,
    actor: 'tester',
  });
  const bit = await runEvaluation(db, { candidate: await row('v2-bit'), judgedSet: set, retriever, actor: 'tester' });

  const model = await loadReportModel(db, { candidate: 'v2-half', baseline: 'v2' });
  const points = chartPoints(renderReport(model));
  assert.deepEqual(points.map((p) => p.version).sort(), ['v2', 'v2-bit', 'v2-half']);
  const by = new Map(points.map((p) => [p.version, p]));

  // The mean stored size of each partition's vectors, measured here on its own column; the full
  // vector is 4 bytes a dimension + 8 of header, and each transform is smaller.
  const measured = async (key: string, column: string) => {
    const v = await row(key);
    const r = await sql<{ b: string }>`select avg(pg_column_size(${sql.ref(column)})) as b
      from ${sql.raw(`chunk_embeddings_v${v.id}`)}`.execute(db.kysely);
    return Math.round(Number(r.rows[0]!.b) * 10) / 10;
  };
  // On Citus a partition keeps PostgreSQL's default storage (no SET STORAGE PLAIN on a distributed
  // table), so a full vector may be stored compressed by a few bytes: there, what is stored.
  assert.equal(by.get('v2')!.bytes, ON_CITUS ? await measured('v2', 'embedding') : 4 * DIMS + 8);
  assert.equal(by.get('v2-half')!.bytes, await measured('v2-half', 'embedding_half'));
  assert.equal(by.get('v2-bit')!.bytes, await measured('v2-bit', 'embedding_bits'));
  assert.ok(by.get('v2-bit')!.bytes < by.get('v2-half')!.bytes && by.get('v2-half')!.bytes < by.get('v2')!.bytes);

  // v2's latest run on the set is the one it was the baseline of (newer than its own).
  const expected = [
    ['v2', half.baseline!],
    ['v2-half', half.candidate],
    ['v2-bit', bit.candidate],
  ] as const;
  for (const [key, ev] of expected) {
    const p = by.get(key)!;
    assert.ok(Math.abs(p.ndcg - ev.overall.values.ndcg_cut_10!) < 1e-12, `${key} nDCG@10 ${p.ndcg}`);
    assert.ok(ev.latency, `${key} latency recorded`);
    assert.equal(p.p50, ev.latency.p50, `${key} p50`);
  }
  assert.notEqual(eval1.runId, null);
  const v2 = model.tradeoff.points.find((p) => p.versionKey === 'v2')!;
  assert.deepEqual({ runId: v2.runId, asBaseline: v2.asBaseline }, { runId: half.runId, asBaseline: true });
  const derived = model.tradeoff.points.find((p) => p.versionKey === 'v2-bit')!;
  assert.deepEqual(
    { from: derived.derivedFrom, transform: derived.transform },
    { from: 'v2', transform: 'bit(1536), re-rank 50' },
  );
});
