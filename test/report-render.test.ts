import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createHash } from 'node:crypto';
import { pathToFileURL } from 'node:url';
import { sql, type Kysely } from 'kysely';
import { createPartition } from '../src/partitions/index.js';
import type { DB } from '../src/db/schema.js';
import { openDatabase } from '../src/db/open.js';
import { migrate } from '../src/migrate/runner.js';
import { silentLogger } from '../src/log/logger.js';
import { createRandom, type Random } from '../src/stats/prng.js';
import { CHART_NAMES, loadReportModel, renderReport } from '../src/upgrade-report/index.js';
import { freshDb, freshTarget, type TestDb } from './support/db.js';
import { REPO, runCli, targetEnv } from './support/cli.js';
import { Writable } from 'node:stream';
import { Command } from 'commander';
import { CliContext } from '../src/cli/context.js';
import { createOutput, type Output } from '../src/cli/output.js';
import { registerReport } from '../src/cli/commands/report.js';
import {
  applyGates,
  compareEvaluations,
  recordEvaluation,
  type Gate,
  type GatesConfig,
  type QueryScore,
  type VersionEvaluation,
} from '../src/evaluate/index.js';

const ARTIFACTS = join(REPO, 'test', 'artifacts');
const CHROMIUM = '/usr/bin/chromium';
const EVIL = `<script>alert("pwned")</script><img src=x onerror=alert(1)>`;
const T0 = Date.parse('2025-03-03T09:00:00Z');
const HOUR = 3_600_000;
const at = (hours: number) => new Date(T0 + hours * HOUR);

const identity = (s: string) => createHash('sha256').update(s).digest('hex');

async function addVersion(
  k: Kysely<DB>,
  key: string,
  spec: string,
  dims: number,
  createdHours: number,
  extra: { state?: 'registered' | 'backfilling' | 'ready' | 'retired'; active?: boolean; retiredHours?: number } = {},
) {
  const [name, model] = spec.split(':');
  const r = await k
    .insertInto('embedding_versions')
    .values({
      version_key: key,
      encoder_spec: spec,
      encoder_name: `${name}:${model}`,
      encoder_revision: identity(`${spec}-rev`).slice(0, 40),
      encoder_settings: JSON.stringify({}),
      encoder_identity: identity(spec),
      dimensions: dims,
      distance_metric: 'cosine',
      index_kind: 'hnsw',
      index_params: JSON.stringify({ m: 16, ef_construction: 64 }),
      index_storage: 'vector',
      state: extra.state ?? 'ready',
      active: extra.active ?? false,
      created_at: at(createdHours),
      retired_at: extra.retiredHours !== undefined ? at(extra.retiredHours) : null,
    })
    .returning('id')
    .executeTakeFirstOrThrow();
  return r.id;
}

type EventKind = DB['version_events']['event'] extends infer E ? E : never;

async function addEvent(
  k: Kysely<DB>,
  id: number,
  key: string,
  event: EventKind extends never ? string : string,
  hours: number,
  more: { actor?: string; reason?: string; forced?: boolean; details?: Record<string, unknown> } = {},
) {
  await k
    .insertInto('version_events')
    .values({
      embedding_version_id: id,
      version_key: key,
      event: event as never,
      actor: more.actor ?? 'ana@search-team',
      reason: more.reason ?? null,
      forced: more.forced ?? false,
      details: JSON.stringify(more.details ?? {}),
      created_at: at(hours),
    })
    .execute();
}

function gauss(r: Random): number {
  return Math.sqrt(-2 * Math.log(1 - r.next())) * Math.cos(2 * Math.PI * r.next());
}
const clamp01 = (x: number) => Math.max(0, Math.min(1, x));

const MEASURES = ['recip_rank', 'map', 'P_5', 'recall_10', 'ndcg_cut_10', 'success_10', 'judged_10'];
const OVERALL_STORED = 'all';

function meanValues(list: readonly QueryScore[]): Record<string, number> {
  return Object.fromEntries(MEASURES.map((m) => [m, list.reduce((a, q) => a + q.values[m]!, 0) / list.length]));
}

/** A version evaluation as evaluateVersion returns it, from per-query scores (no retrieval). */
function versionEvaluation(
  version: VersionEvaluation['version'],
  judgedSet: VersionEvaluation['judgedSet'],
  perQuery: QueryScore[],
  p50 = 8,
): VersionEvaluation {
  const names = [...new Set(perQuery.map((q) => q.segment))].sort();
  return {
    version,
    judgedSet,
    ks: [5, 10],
    measures: MEASURES,
    runDepth: 10,
    overall: { segment: OVERALL_STORED, queries: perQuery.length, values: meanValues(perQuery) },
    segments: names.map((segment) => {
      const list = perQuery.filter((q) => q.segment === segment);
      return { segment, queries: list.length, values: meanValues(list) };
    }),
    perQuery,
    run: new Map(perQuery.map((q) => [q.id, [{ docno: `doc-${q.id}`, score: 1 }]])),
    shortQueries: 0,
    timings: { retrieveMs: 1200, scoreMs: 15 },
    latency: { queries: perQuery.length, concurrency: 4, p50, p95: p50 * 2, p99: p50 * 3, mean: p50 * 1.2 },
  };
}

/** A partition for a seeded version holding `n` constant vectors, so the report can measure its size. */
async function addVectors(k: Kysely<DB>, id: number, dims: number, chunkIds: number[]) {
  await createPartition(k, {
    id,
    dimensions: dims,
    index_storage: 'vector',
    derivation: null,
    distance_metric: 'cosine',
    index_kind: 'none',
    index_params: {},
  });
  for (const c of chunkIds)
    await sql`insert into chunk_embeddings (chunk_id, embedding_version_id, embedding)
              select ${c}, ${id}, array_fill(0.1::real, array[${dims}::int])::vector`.execute(k);
}

/** A realistic upgrade: v0 retired, v1 active (hash), v2 (text-embedding-3-small) backfilled, shadowed, gated. */
export async function seedUpgrade(k: Kysely<DB>): Promise<void> {
  const r = createRandom('report-seed');
  const v0 = await addVersion(k, 'v0', 'hash:words-128', 128, -240, { state: 'retired', retiredHours: -100 });
  const v1 = await addVersion(k, 'v1', 'hash:words-256', 256, -170, { active: true });
  const v2 = await addVersion(k, 'v2', 'openai:text-embedding-3-small', 1536, -52);

  await addEvent(k, v0, 'v0', 'registered', -240);
  await addEvent(k, v0, 'v0', 'backfill_started', -239.9);
  await addEvent(k, v0, 'v0', 'backfill_completed', -239.2);
  await addEvent(k, v0, 'v0', 'index_built', -239.1);
  await addEvent(k, v0, 'v0', 'activated', -238, { reason: 'first version' });
  await addEvent(k, v1, 'v1', 'registered', -170, { actor: 'bo@search-team' });
  await addEvent(k, v1, 'v1', 'backfill_started', -169.8, { actor: 'bo@search-team' });
  await addEvent(k, v1, 'v1', 'backfill_completed', -168.9, { actor: 'bo@search-team' });
  await addEvent(k, v1, 'v1', 'index_built', -168.8, { actor: 'bo@search-team' });
  await addEvent(k, v1, 'v1', 'gate_passed', -150, { actor: 'ci' });
  await addEvent(k, v1, 'v1', 'activated', -148, { actor: 'bo@search-team', reason: 'bigger hash space' });
  await addEvent(k, v0, 'v0', 'retired', -100, { actor: 'bo@search-team' });
  await addEvent(k, v2, 'v2', 'registered', -52, {
    details: { probe_dimensions: 1536, api_key: 'sk-should-never-show-123456789' },
  });
  await addEvent(k, v2, 'v2', 'backfill_started', -50, { details: { workers: 3 } });
  await addEvent(k, v2, 'v2', 'backfill_failed', -49.2, {
    reason: 'quota exhausted (429) — resumed later',
    details: { batch: 812 },
  });
  await addEvent(k, v2, 'v2', 'backfill_started', -47.5, { details: { workers: 3, rpm: 3000 } });
  await addEvent(k, v2, 'v2', 'backfill_completed', -46.7);
  await addEvent(k, v2, 'v2', 'index_built', -46.5, { details: { seconds: 212 } });
  await addEvent(k, v2, 'v2', 'gate_failed', -45, { actor: 'ci', reason: 'recall@10 on long-tail below baseline' });
  await addEvent(k, v2, 'v2', 'shadow_started', -44, {
    reason: 'sample 10% of live traffic',
    details: { sample: 0.1 },
  });
  await addEvent(k, v2, 'v2', 'gate_passed', -2, { actor: 'ci', reason: EVIL });

  // Backfill runs: three workers for v2 plus the run that hit the quota.
  const runs: {
    v: number;
    worker: string;
    status: 'completed' | 'failed';
    embedded: number;
    reused: number;
    tokens: number;
    cost: number;
    req: number;
    rl: number;
    start: number;
    end: number;
  }[] = [
    {
      v: v0,
      worker: 'host-a:411',
      status: 'completed',
      embedded: 184_220,
      reused: 0,
      tokens: 0,
      cost: 0,
      req: 0,
      rl: 0,
      start: -239.9,
      end: -239.2,
    },
    {
      v: v1,
      worker: 'host-a:977',
      status: 'completed',
      embedded: 186_004,
      reused: 0,
      tokens: 0,
      cost: 0,
      req: 0,
      rl: 0,
      start: -169.8,
      end: -168.9,
    },
    {
      v: v2,
      worker: 'host-a:1201',
      status: 'failed',
      embedded: 21_400,
      reused: 3_100,
      tokens: 5_046_000,
      cost: 0.1009,
      req: 214,
      rl: 37,
      start: -50,
      end: -49.2,
    },
    {
      v: v2,
      worker: 'host-a:1302',
      status: 'completed',
      embedded: 54_102,
      reused: 3_880,
      tokens: 12_760_000,
      cost: 0.2552,
      req: 542,
      rl: 4,
      start: -47.5,
      end: -46.72,
    },
    {
      v: v2,
      worker: 'host-b:88',
      status: 'completed',
      embedded: 53_877,
      reused: 4_020,
      tokens: 12_700_000,
      cost: 0.254,
      req: 539,
      rl: 6,
      start: -47.49,
      end: -46.7,
    },
    {
      v: v2,
      worker: 'host-c:90',
      status: 'completed',
      embedded: 54_310,
      reused: 3_905,
      tokens: 12_810_000,
      cost: 0.2562,
      req: 545,
      rl: 3,
      start: -47.48,
      end: -46.71,
    },
  ];
  for (const x of runs) {
    await k
      .insertInto('backfill_runs')
      .values({
        embedding_version_id: x.v,
        worker: x.worker,
        status: x.status,
        embedded: x.embedded,
        reused: x.reused,
        tokens: x.tokens,
        cost_usd: x.cost,
        encoder_requests: x.req,
        rate_limited: x.rl,
        error: x.status === 'failed' ? `429 from provider ${EVIL}` : null,
        started_at: at(x.start),
        heartbeat_at: at(x.end),
        finished_at: at(x.end),
      })
      .execute();
  }

  // Evaluation: 150 judged queries in three segments, scored for both versions, compared, gated and recorded
  // by the evaluate module itself, so the stored JSON has exactly the shapes `embctl evaluate` writes.
  const segments = ['short keyword', 'natural question', `long-tail ${EVIL}`];
  const lift: Record<string, number> = { 'short keyword': 0.02, 'natural question': 0.11, [segments[2]!]: -0.015 };
  const candQ: QueryScore[] = [];
  const baseQ: QueryScore[] = [];
  for (let i = 0; i < 150; i++) {
    const segment = segments[i % 3]!;
    const base = clamp01(0.5 + 0.22 * gauss(r));
    const cand = clamp01(base + lift[segment]! + 0.12 * gauss(r));
    const values = (x: number): Record<string, number> => ({
      recip_rank: clamp01(x + 0.05 + 0.1 * gauss(r)),
      map: clamp01(x - 0.05 + 0.05 * gauss(r)),
      P_5: clamp01(x * 0.6 + 0.05 * gauss(r)),
      recall_10: clamp01(x + 0.15 + 0.08 * gauss(r)),
      ndcg_cut_10: x,
      success_10: x > 0.3 ? 1 : 0,
      judged_10: clamp01(0.93 + 0.05 * gauss(r)),
    });
    const id = `q${String(i).padStart(3, '0')}`;
    candQ.push({ id, segment, values: values(cand) });
    baseQ.push({ id, segment, values: values(base) });
  }
  const judged = {
    name: 'support-tickets-2025q1',
    sha256: identity('judged'),
    keyKind: 'document_id' as const,
    source: 'tickets.jsonl',
    queries: 150,
  };
  const candidate = versionEvaluation(
    { id: v2, key: 'v2', encoder: 'openai:text-embedding-3-small' },
    judged,
    candQ,
    14,
  );
  const baseline = versionEvaluation({ id: v1, key: 'v1', encoder: 'hash:words-256' }, judged, baseQ, 6);
  const chunkIds: number[] = [];
  for (let i = 0; i < 3; i++) {
    const r = await k
      .insertInto('document_chunks')
      .values({
        semantic_key: identity(`chunk-${i}`),
        document_id: `doc-${i}`,
        chunk_no: 0,
        content: `chunk ${i}`,
        content_sha256: Buffer.from(identity(`content-${i}`), 'hex'),
      })
      .returning('id')
      .executeTakeFirstOrThrow();
    chunkIds.push(Number(r.id));
  }
  await addVectors(k, v1, 256, chunkIds);
  await addVectors(k, v2, 1536, chunkIds);
  const gatesConfig = (gates: Omit<Gate, 'index'>[]): GatesConfig => ({
    source: 'evals/gates.json',
    alpha: 0.05,
    confidence: 0.95,
    permutations: 2000,
    resamples: 2000,
    seed: undefined,
    gates: gates.map((g, index) => ({ ...g, index })),
  });
  const record = async (config: GatesConfig, actor: string, hours: number) => {
    const outcomes = applyGates(candidate, baseline, config);
    const comparisons = compareEvaluations(candidate, baseline, { confidence: config.confidence }).filter(
      (c) => c.segment === OVERALL_STORED,
    );
    // gated: false so that no gate event is logged now; the seeded events above stand for it.
    const row = await recordEvaluation(k, {
      candidate,
      baseline,
      comparisons,
      outcomes,
      gated: false,
      gatesSource: config.source,
      actor,
    });
    await k
      .updateTable('evaluation_runs')
      .set({ gated: true, created_at: at(hours) })
      .where('id', '=', row.id)
      .execute();
  };
  // The first gated run failed: recall@10 on the long tail was held to an absolute floor it does not reach.
  await record(
    gatesConfig([
      { name: 'recall@10 floor on long-tail', metric: 'recall_10', segment: segments[2]!, kind: 'min', min: 0.95 },
    ]),
    'ci',
    -45,
  );
  await record(
    gatesConfig([
      { name: 'nDCG@10 not worse overall', metric: 'ndcg_cut_10', segment: null, kind: 'max_drop', maxDrop: 0.01 },
      { name: 'nDCG@10 floor', metric: 'ndcg_cut_10', segment: null, kind: 'min', min: 0.45 },
      { name: 'recall@10 on long-tail', metric: 'recall_10', segment: segments[2]!, kind: 'max_drop', maxDrop: 0.08 },
      { name: 'judged coverage', metric: 'judged_10', segment: null, kind: 'min', min: 0.9 },
    ]),
    `ci ${EVIL}`,
    -2,
  );

  // Shadow traffic over 42 hours, busier during the day; the candidate is slower and drifts a little.
  const rows = [];
  for (let i = 0; i < 1800; i++) {
    const t = -44 + (42 * i) / 1800 + r.next() * 0.02;
    const hourOfDay = ((t % 24) + 24 + 9) % 24;
    if (hourOfDay < 7 && r.next() < 0.6) continue;
    const segment = r.next() < 0.55 ? 'search-box' : r.next() < 0.6 ? 'support-bot' : null;
    const agreement = clamp01(0.74 + 0.16 * gauss(r) - (segment === 'support-bot' ? 0.1 : 0));
    const hits = Math.round(agreement * 10);
    const rbo = clamp01(hits / 10 - 0.06 + 0.07 * gauss(r));
    const pms = Math.exp(Math.log(7.5) + 0.35 * gauss(r));
    const cms = pms * 1.35 + Math.exp(Math.log(2) + 0.6 * gauss(r));
    const ids = Array.from({ length: 10 }, (_, j) => 1000 + i * 10 + j);
    rows.push({
      created_at: at(t),
      query_sha256: createHash('sha256').update(`q${i}`).digest(),
      query_text: null,
      segment,
      primary_version_id: v1,
      candidate_version_id: v2,
      k: 10,
      primary_ids: ids,
      candidate_ids: ids.map((x, j) => (j < hits ? x : x + 50_000)),
      overlap_at_k: hits / 10,
      jaccard: hits / (20 - hits),
      rbo,
      primary_ms: pms,
      candidate_ms: cms,
    });
  }
  for (let i = 0; i < rows.length; i += 500)
    await k
      .insertInto('shadow_queries')
      .values(rows.slice(i, i + 500))
      .execute();
}

/** The little of the DOM the page checks use (the test compiles without lib.dom). */
interface DomEl {
  getAttribute(name: string): string | null;
  querySelector(sel: string): DomEl | null;
  querySelectorAll(sel: string): Iterable<DomEl> & { length: number };
  getBoundingClientRect(): { width: number; height: number };
  textContent: string | null;
}
interface Dom extends DomEl {
  body: { innerText: string };
}

interface BrowserCheck {
  name: string;
  empty: string | null;
  svgTitle: string | null;
  marks: number;
}

describe('upgrade report rendered from a database', () => {
  let db: TestDb;
  let html: string;

  before(async () => {
    db = await freshDb();
    await seedUpgrade(db.kysely);
    const model = await loadReportModel(db, { now: new Date(T0) });
    html = renderReport(model, { generator: 'embctl test' });
    mkdirSync(ARTIFACTS, { recursive: true });
    writeFileSync(join(ARTIFACTS, 'report.html'), html);
  });
  after(async () => {
    await db?.destroy();
  });

  test('the model picks v2 against v1 and reads every section', async () => {
    const m = await loadReportModel(db);
    assert.equal(m.candidate?.key, 'v2');
    assert.equal(m.baseline?.key, 'v1');
    assert.equal(m.activeKey, 'v1');
    assert.equal(m.verdict.status, 'pass', m.verdict.headline);
    assert.ok(m.evaluation);
    assert.equal(m.evaluation.passed, true);
    assert.equal(m.evaluation.headlineMetric, 'nDCG@10');
    assert.equal(m.evaluation.segments[0]!.segment, 'overall');
    assert.equal(m.evaluation.segments.length, 4);
    const overall = m.evaluation.segments[0]!.metrics.find((x) => x.metric === 'nDCG@10')!;
    assert.ok(overall.deltaCi && overall.candidateCi && overall.baselineCi, 'intervals from per-query scores');
    assert.ok(overall.deltaCi.lo < overall.delta! && overall.delta! < overall.deltaCi.hi);
    assert.equal(m.evaluation.gates.length, 4);
    // The stored JSON is read exactly: no "could not read" note, readable labels, the overall row, every gate filled.
    assert.deepEqual(m.evaluation.skipped, []);
    assert.deepEqual(m.evaluation.metricNames, ['MRR', 'MAP', 'nDCG@10', 'P@5', 'R@10', 'hit@10', 'Judged@10']);
    assert.deepEqual(
      m.evaluation.segments.map((s) => s.segment),
      [
        'overall',
        'long-tail <script>alert("pwned")</script><img src=x onerror=alert(1)>',
        'natural question',
        'short keyword',
      ],
    );
    assert.deepEqual(
      m.evaluation.segments.map((s) => s.queries),
      [150, 50, 50, 50],
    );
    for (const s of m.evaluation.segments) {
      for (const x of s.metrics)
        assert.ok(
          x.candidate !== null && x.baseline !== null && x.delta !== null && x.deltaCi !== null,
          `${s.segment} ${x.metric}`,
        );
    }
    const [relative, floor, tail, coverage] = m.evaluation.gates;
    assert.deepEqual(
      [
        relative!.segment,
        relative!.metric,
        relative!.kind,
        relative!.status,
        relative!.threshold,
        relative!.alpha,
        relative!.baselineKey,
      ],
      ['overall', 'nDCG@10', 'max_drop', 'passed', 0.01, 0.05, 'v1'],
    );
    assert.ok(relative!.candidate !== null && relative!.baseline !== null && relative!.ci && relative!.pValue !== null);
    assert.ok(Math.abs(relative!.delta! - (relative!.candidate! - relative!.baseline!)) < 1e-9);
    // The overall difference interval is the one evaluate recorded, not one recomputed here.
    const stored = (
      await db.kysely.selectFrom('evaluation_runs').select('metrics').orderBy('id', 'desc').executeTakeFirstOrThrow()
    ).metrics as { comparisons: { metric: string; ciLower: number; ciUpper: number }[] };
    const rec = stored.comparisons.find((c) => c.metric === 'nDCG@10')!;
    assert.deepEqual(overall.deltaCi, { lo: rec.ciLower, hi: rec.ciUpper });
    assert.match(m.evaluation.intervalNotes.join(' '), /recorded by embctl evaluate/);
    assert.equal(floor!.kind, 'min');
    assert.equal(floor!.threshold, 0.45);
    assert.ok(
      floor!.candidate !== null && floor!.baseline !== null,
      'an absolute gate shows the baseline from the run',
    );
    assert.equal(floor!.ci, null);
    assert.match(tail!.segment ?? '', /^long-tail /);
    assert.ok(tail!.ci && tail!.pValue !== null);
    assert.equal(coverage!.metric, 'Judged@10');
    assert.equal(m.evaluationHistory.length, 2);
    assert.ok(m.shadow);
    assert.equal(m.shadow.k, 10);
    assert.equal(m.shadow.overlap.bins.length, 11);
    assert.equal(m.shadow.overlap.total, m.shadow.queries);
    assert.equal(
      m.shadow.rbo.bins.reduce((a, b) => a + b.count, 0),
      m.shadow.queries,
    );
    assert.equal(
      m.shadow.series.reduce((a, p) => a + p.queries, 0),
      m.shadow.queries,
    );
    assert.ok(m.shadow.latency && m.shadow.latency.candidate.p95 > m.shadow.latency.primary.p95);
    assert.deepEqual(m.shadow.primaryKeys, ['v1']);
    assert.deepEqual(
      m.backfill.map((b) => b.versionKey),
      ['v0', 'v1', 'v2'],
    );
    const v2 = m.backfill.find((b) => b.versionKey === 'v2')!;
    assert.equal(v2.runs, 4);
    assert.equal(v2.failedRuns, 1);
    assert.ok(Math.abs(v2.costUsd - 0.8663) < 1e-9);
    assert.ok(Math.abs(v2.wallSeconds! - 3.3 * 3600) < 1);
    assert.ok(m.events.some((e) => e.event === 'retired' && e.versionKey === 'v0'));
    // Secrets in audit details are redacted.
    assert.doesNotMatch(JSON.stringify(m), /sk-should-never-show/);
  });

  test('explicit candidate/baseline, and unknown keys are a clear error', async () => {
    const m = await loadReportModel(db, { candidate: 'v1', baseline: 'v0' });
    assert.equal(m.candidate?.key, 'v1');
    assert.equal(m.baseline?.key, 'v0');
    assert.equal(m.verdict.status, 'active');
    assert.equal(m.shadow, null);
    await assert.rejects(
      loadReportModel(db, { candidate: 'nope' }),
      /no version "nope" for the candidate \(known: v0, v1, v2\)/,
    );
    await assert.rejects(loadReportModel(db, { candidate: 'v2', baseline: 'v2' }), /must differ/);
  });

  test('the HTML is self-contained and escapes what came from the database', () => {
    assert.doesNotMatch(html, /<script/i);
    assert.doesNotMatch(html, /<img/i);
    assert.doesNotMatch(html, /onerror=alert\(1\)>/);
    assert.match(html, /&lt;script&gt;alert\(&quot;pwned&quot;\)&lt;\/script&gt;/);
    assert.doesNotMatch(html, /https?:\/\/(?!www\.w3\.org\/2000\/svg)/);
    assert.doesNotMatch(html, /sk-should-never-show/);
    for (const name of CHART_NAMES)
      assert.match(html, new RegExp(`<figure class="chart-figure" data-chart="${name}">`), name);
    assert.doesNotMatch(html, /could not read/);
    assert.match(html, /<th scope="row">nDCG@10<\/th>/);
    assert.doesNotMatch(html, /<th[^>]*>values<\/th>/);
    assert.match(html, /<th class="seg" colspan="3">overall <span class="muted">n=150<\/span><\/th>/);
  });

  const skip = existsSync(CHROMIUM)
    ? false
    : `${CHROMIUM} is missing: install Debian's chromium (apt-get install -y chromium) to run the browser check`;
  test('opens in headless Chromium: every chart drawn, no network, screenshot', { skip }, async () => {
    const { chromium } = await import('playwright-core');
    const userDataDir = mkdtempSync(join(tmpdir(), 'embctl-chromium-'));
    const file = join(ARTIFACTS, 'report.html');
    const context = await chromium.launchPersistentContext(userDataDir, {
      executablePath: CHROMIUM,
      headless: true,
      args: [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
      ],
      viewport: { width: 1240, height: 900 },
      deviceScaleFactor: 1,
    });
    try {
      const requests: string[] = [];
      const consoleErrors: string[] = [];
      context.on('request', (r) => requests.push(r.url()));
      await context.route(/^(?!file:)/, (route) => route.abort());
      const page = context.pages()[0] ?? (await context.newPage());
      page.on('console', (msg) => {
        if (msg.type() === 'error') consoleErrors.push(msg.text());
      });
      page.on('pageerror', (e) => consoleErrors.push(e.message));
      const url = pathToFileURL(file).href;
      await page.goto(url, { waitUntil: 'load' });

      const checks: BrowserCheck[] = await page.evaluate(() => {
        const document = (globalThis as unknown as { document: Dom }).document;
        return [...document.querySelectorAll('figure[data-chart]')].map((f) => {
          const svg = f.querySelector('svg');
          const marks = svg
            ? [...svg.querySelectorAll('rect.bar, rect.band, rect.point, path, circle, g.event')].filter((el) => {
                const b = el.getBoundingClientRect();
                return b.width > 0.5 && b.height > 0.5;
              }).length
            : 0;
          return {
            name: f.getAttribute('data-chart') ?? '',
            empty: f.getAttribute('data-empty'),
            svgTitle: svg?.querySelector(':scope > title')?.textContent ?? null,
            marks,
          };
        });
      });
      assert.deepEqual(checks.map((c) => c.name).sort(), [...CHART_NAMES].sort());
      for (const c of checks) {
        assert.equal(c.empty, null, `${c.name} is empty`);
        assert.ok(c.svgTitle && c.svgTitle.length > 3, `${c.name} has an accessible title`);
        assert.ok(c.marks >= 2, `${c.name} draws marks (${c.marks})`);
      }
      const injected = await page.evaluate(
        () =>
          (globalThis as unknown as { document: Dom }).document.querySelectorAll('script, img, iframe, object, embed')
            .length,
      );
      assert.equal(injected, 0, 'no element was injected');
      assert.ok(
        await page.evaluate(() =>
          (globalThis as unknown as { document: Dom }).document.body.innerText.includes(
            '<script>alert("pwned")</script>',
          ),
        ),
        'the hostile text is shown as text',
      );

      mkdirSync(ARTIFACTS, { recursive: true });
      await page.screenshot({ path: join(ARTIFACTS, 'report.png'), fullPage: true });
      assert.deepEqual(
        requests.filter((u) => u !== url),
        [],
        'the page made no request',
      );
      assert.deepEqual(consoleErrors, []);
    } finally {
      await context.close();
      rmSync(userDataDir, { recursive: true, force: true });
    }
  });
});

describe('upgrade report on an empty database', () => {
  test('every figure says how to get data', async () => {
    const db = await freshDb();
    try {
      const m = await loadReportModel(db);
      assert.equal(m.candidate, null);
      assert.equal(m.verdict.status, 'empty');
      const html = renderReport(m);
      for (const name of CHART_NAMES) {
        assert.match(html, new RegExp(`<figure class="chart-figure" data-chart="${name}" data-empty="true">`), name);
      }
      assert.match(html, /No events yet — register a version/);
      assert.match(html, /No shadow traffic yet — run <code>embctl shadow start/);
      assert.match(html, /No evaluation yet — run <code>embctl evaluate/);
      assert.match(html, /No backfill runs yet/);
    } finally {
      await db.destroy();
    }
  });
});

/** A CLI context whose output is captured, so the command can run in-process before it is wired into main. */
class CapturingContext extends CliContext {
  stdout = '';
  #out: Output | undefined;
  override get out(): Output {
    if (!this.#out) {
      const sink = new Writable({
        write: (chunk, _enc, done) => {
          this.stdout += String(chunk);
          done();
        },
      });
      this.#out = createOutput(Boolean(this.globals.json), sink);
    }
    return this.#out;
  }
}

async function runReportInProcess(args: string[], env: NodeJS.ProcessEnv): Promise<string> {
  const program = new Command('embctl')
    .exitOverride()
    .option('--json')
    .option('--database-url <url>')
    .option('--home <dir>')
    .option('--log-level <level>')
    .option('--actor <name>');
  const ctx = new CapturingContext(program, { ...env, EMBCTL_LOG_LEVEL: 'silent' });
  registerReport(program, ctx);
  try {
    await program.parseAsync(args, { from: 'user' });
    return ctx.stdout;
  } finally {
    await ctx.close();
  }
}

describe('embctl report', () => {
  let target: Awaited<ReturnType<typeof freshTarget>>;
  let dir: string;
  before(async () => {
    target = await freshTarget();
    dir = mkdtempSync(join(tmpdir(), 'embctl-report-'));
    const db = await openDatabase({ databaseUrl: target.url, homeDir: target.homeDir, logger: silentLogger() });
    try {
      await migrate(db, { logger: silentLogger() });
      await seedUpgrade(db.kysely);
    } finally {
      await db.close();
    }
  });
  after(async () => {
    rmSync(dir, { recursive: true, force: true });
    await target?.destroy();
  });

  test('registerReport: writes the HTML and prints its path; --json prints the model', async () => {
    const env = targetEnv(target);
    const out = join(dir, 'nested', 'upgrade.html');
    const text = await runReportInProcess(['report', '--out', out], env);
    assert.match(text, /^wrote (.+)\n/);
    assert.equal(text.split('\n')[0], `wrote ${out}`);
    assert.match(text, /v2 passed its gates against v1: ready to activate/);
    assert.match(readFileSync(out, 'utf8'), /<figure class="chart-figure" data-chart="timeline">/);
    const json = await runReportInProcess(['report', '--json', '--candidate', 'v2', '--baseline', 'v1'], env);
    const model = JSON.parse(json);
    assert.equal(model.candidate.key, 'v2');
    assert.equal(model.baseline.key, 'v1');
    assert.equal(model.evaluation.headlineMetric, 'nDCG@10');
    await assert.rejects(
      runReportInProcess(['report', '--candidate', 'nope', '--out', join(dir, 'x.html')], env),
      /no version "nope"/,
    );
  });

  test('through the embctl binary: exit codes', async () => {
    const help = await runCli(['--help']);
    assert.match(help.stdout, /^ {2}report\b/m, 'embctl --help lists report');
    const env = targetEnv(target);
    const out = join(dir, 'cli.html');
    const r = await runCli(['report', '--out', out], { env });
    assert.equal(r.code, 0, r.stderr);
    assert.ok(r.stdout.startsWith(`wrote ${out}\n`), r.stdout);
    const bad = await runCli(['report', '--candidate', 'nope', '--out', join(dir, 'x.html')], { env });
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /no version "nope"/);
  });
});
