import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import type { Db } from '../db/index.js';
import { loadJudgedSet, type JudgedSet } from '../judged-set/index.js';
import { createSearchRetriever, readGatesFile, runEvaluation, type EvaluationOutcome } from '../evaluate/index.js';
import { ingest } from '../ingest/index.js';
import { activate, rollback } from '../lifecycle/index.js';
import type { Logger } from '../log/index.js';
import { migrate } from '../migrate/index.js';
import { generateReport } from '../upgrade-report/index.js';
import { createSearcher } from '../search/index.js';
import { createShadower } from '../shadow/index.js';
import { startShadow, stopShadow } from '../shadow/index.js';
import { summarizeShadow } from '../shadow/index.js';
import { getStatus } from '../status/index.js';
import { registerVersion } from '../versions/index.js';
import { requireVersion } from '../versions/index.js';
import { runBackfill } from '../backfill/index.js';
import { RefusedError } from '../errors.js';
import { formatTable } from '../util/index.js';
import { calibrateJudge, judgeVersion, loadScorer } from '../judge/index.js';
import { crossEncoderJudge, type Judge } from '../judges/index.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
export const DEMO_CORPUS = join(ROOT, 'examples/demo/corpus.jsonl');
export const DEMO_JUDGED = join(ROOT, 'evals/demo.judged.jsonl');
export const DEMO_GATES = join(ROOT, 'evals/gates.json');
/** A tiny hand-built lexical cross-encoder (scripts/make-tiny-cross-encoder.py): the demo's offline judge. */
export const DEMO_JUDGE = join(ROOT, 'test/fixtures/tiny-cross-encoder');

/** The three encoders of the story; built in, so no network and no key. */
export interface DemoEncoders {
  v1: string;
  v2: string;
  v3: string;
}
export const DEFAULT_DEMO_ENCODERS: DemoEncoders = { v1: 'hash:words-256', v2: 'hash:mixed-768', v3: 'hash:words-32' };

export interface DemoOptions {
  home: string;
  encoders?: Partial<DemoEncoders>;
  logger: Logger;
  actor?: string;
  /** Where the story is told (one line at a time). */
  say: (line?: string) => void;
}

export interface DemoResult {
  reportPath: string;
  gates: Record<string, boolean | null>;
  activeAtEnd: string | null;
  seconds: number;
}

/**
 * The whole model upgrade on a fresh embedded database: ingest → v1 →
 * backfill → gate → activate → v2 → backfill → shadow → gate → activate →
 * a bad v3 is refused → rollback and back → status → HTML report. Every
 * verdict comes from real evaluation of the shipped judged set.
 */
export async function runDemo(db: Db, opts: DemoOptions): Promise<DemoResult> {
  const t0 = performance.now();
  const enc = { ...DEFAULT_DEMO_ENCODERS, ...opts.encoders };
  const actor = opts.actor ?? 'embctl-demo';
  const { say, logger } = opts;
  const step = (n: number, title: string, why: string) => {
    say();
    say(`${n}. ${title}`);
    say(`   ${why}`);
  };
  const ms = (since: number) => `${((performance.now() - since) / 1000).toFixed(1)}s`;

  step(1, 'migrate', 'The schema: chunks, versions with one active flag, one partition per version, an audit trail.');
  const m = await migrate(db, { logger });
  const st = await getStatus(db);
  say(`   schema version ${m.schemaVersion} on embedded PostgreSQL ${st.server} with pgvector ${st.pgvector}`);

  step(
    2,
    'ingest examples/demo/corpus.jsonl',
    'Documents become stable chunks; each has a semantic key that survives re-imports.',
  );
  let t = performance.now();
  const ing = await ingest(db, [DEMO_CORPUS], { chunkSize: 600 }, { logger });
  say(`   ${ing.documents} documents → ${ing.chunks.new} chunks in ${ms(t)} (a second run would report 0 new)`);
  const judged = await loadJudgedSet(DEMO_JUDGED);
  const gates = await readGatesFile(DEMO_GATES);
  const retriever = createSearchRetriever(db, { logger });
  const results: Record<string, boolean | null> = {};

  const register = async (key: string, spec: string, what: string) => {
    t = performance.now();
    const v = await registerVersion(db, { key, encoder: spec }, { actor, logger, env: {} });
    say(
      `   ${key} = ${spec}: ${what}; ${v.dimensions} dims, ${v.index_kind} index on ${v.index_storage}, partition created (${ms(t)})`,
    );
  };
  const backfill = async (key: string) => {
    const s = await runBackfill(db, key, { workers: 2 }, { actor, logger });
    say(
      `   ${s.chunksWritten} chunks: ${s.embedded} texts embedded, ${s.reused} reused; ${s.index?.built ? `HNSW index built in ${(s.index.ms / 1000).toFixed(1)}s; ` : ''}` +
        `state ${s.state} (${s.seconds.toFixed(1)}s)`,
    );
  };
  const tryActivate = async (key: string, reason?: string) => {
    try {
      const a = await activate(db, key, { actor, reason });
      say(`   embctl activate ${key} → ${key} is active${a.previous ? ` (was ${a.previous})` : ' (none was before)'}`);
    } catch (e) {
      if (!(e instanceof RefusedError)) throw e;
      say(`   embctl activate ${key} → refused (exit 1): ${e.message}`);
    }
  };
  const gate = async (key: string): Promise<EvaluationOutcome> => {
    const candidate = await requireVersion(db.kysely, key);
    const active = (await getStatus(db)).versions.find((v) => v.active)?.key;
    const baseline = active && active !== key ? await requireVersion(db.kysely, active) : null;
    const r = await runEvaluation(db, { candidate, baseline, judgedSet: judged, retriever, gates, gated: true, actor });
    results[key] = r.passed;
    printEvaluation(r, say);
    return r;
  };

  let judge: Judge | undefined;
  const judgePool = async (key: string, baselineKey: string) => {
    t = performance.now();
    const r = await judgeVersion(db.kysely, {
      candidate: await requireVersion(db.kysely, key),
      baseline: await requireVersion(db.kysely, baselineKey),
      source: { kind: 'judged-set', set: judged },
      judge: judge!,
      retriever,
      depth: 10,
      actor,
    });
    const p = r.pool;
    say(
      `   pool of ${key} and ${baselineKey}, top 10 of ${p.queries} queries: ${p.pooled} pairs; ${p.labelled} labelled by people, ${p.judged} judged before → ${r.run?.graded ?? 0} judged now (${ms(t)})`,
    );
  };

  step(3, `register v1 (${enc.v1})`, 'A weak built-in lexical encoder stands in for the model you run today.');
  await register('v1', enc.v1, 'words only');
  step(4, 'backfill v1', 'Every live chunk embedded in leased batches, then the ANN index built after the load.');
  await backfill('v1');
  step(
    5,
    'evaluate --gate v1',
    `${judged.queries.length} judged queries in ${new Set(judged.queries.map((q) => q.segment)).size} segments; no version is active yet, so only the absolute gates apply.`,
  );
  await gate('v1');
  step(6, 'activate v1', 'One transaction sets the active flag; searches now use v1.');
  await tryActivate('v1', 'first version');

  step(7, `register v2 (${enc.v2})`, 'The candidate: a stronger encoder (stemming, word pairs, character n-grams).');
  await register('v2', enc.v2, 'words + bigrams + character n-grams');
  step(8, 'backfill v2', 'Into its own partition; v1 keeps serving meanwhile.');
  await backfill('v2');

  step(
    9,
    'shadow v2 at 100%',
    'Live queries are answered by v1; each is mirrored to v2 off the request path and the two top-10s compared.',
  );
  await startShadow(db, { key: 'v2', sampleRate: 1, storeQueryText: true }, { actor });
  const searcher = createSearcher(db, { logger });
  const shadower = createShadower(db, {
    logger,
    search: async (versionKey, query, k) => {
      const r = await searcher.search({ query, version: versionKey, k });
      return { ids: r.hits.map((h) => h.chunkId), ms: r.ms };
    },
  });
  await shadower.refresh();
  t = performance.now();
  let served = 0;
  for (const q of judged.queries) {
    const r = await searcher.search({ query: q.text, k: 10 });
    if (r.version === 'v1') served++;
    shadower.afterPrimary({
      query: q.text,
      segment: q.segment ?? undefined,
      primaryVersion: r.version,
      primaryIds: r.hits.map((h) => h.chunkId),
      primaryMs: r.ms,
      k: 10,
    });
  }
  await shadower.close({ timeoutMs: 30_000 });
  await searcher.close();
  await stopShadow(db, { reason: 'demo: enough traffic seen' }, { actor });
  const sr = await summarizeShadow(db, { candidate: 'v2' });
  say(
    `   ${judged.queries.length} queries, all ${served} answered by v1; ${sr.overall.count} mirrored to v2 (${sr.dropped} dropped) in ${ms(t)}`,
  );
  say(
    `   overlap@10 mean ${f2(sr.overall.overlap.mean)} (p10 ${f2(sr.overall.overlap.p10)}), RBO mean ${f2(sr.overall.rbo.mean)}: v2 ranks differently — is it better? The gate decides.`,
  );
  for (const s of sr.segments)
    say(`     ${String(s.segment).padEnd(9)} overlap ${f2(s.overlap.mean)}  RBO ${f2(s.rbo.mean)}`);

  step(
    10,
    'judge the disagreements: embctl judge --version v2 --judge cross-encoder:…',
    "Most of what v2 returns, nobody judged: it would count as not relevant. A local cross-encoder, calibrated on the set's human labels, grades the pooled top 10 of v2 and v1.",
  );
  t = performance.now();
  const scorer = await loadScorer(DEMO_JUDGE, { logger });
  try {
    const cal = await calibrateJudge(db.kysely, {
      judge: crossEncoderJudge(scorer, [-1e300, 0, 1e300]),
      fit: async (th) => crossEncoderJudge(scorer, th),
      set: judged,
      versions: [await requireVersion(db.kysely, 'v1'), await requireVersion(db.kysely, 'v2')],
      retriever,
      actor,
    });
    judge = crossEncoderJudge(scorer, cal.thresholds!);
    say(
      `   embctl judge calibrate: ${cal.pairs} human-labelled pairs, kappa ${cal.kappa.toFixed(2)}, accuracy ${cal.accuracy.toFixed(2)}, version ranking tau ${cal.kendallTau === null ? '–' : cal.kendallTau.toFixed(2)}; thresholds ${cal.thresholds!.join(', ')} (${ms(t)})`,
    );
    await judgePool('v2', 'v1');
    step(
      11,
      'evaluate --gate v2 (baseline: the active v1)',
      'Paired per query on judged results: a relative gate fails only on a drop that is larger than allowed AND significant.',
    );
    await gate('v2');
  } finally {
    if (!judge) await scorer.close();
  }
  step(
    12,
    'activate v2',
    'Its last gate passed, it is fully backfilled and its index is valid: the flag moves in one transaction.',
  );
  await tryActivate('v2', 'gate passed');

  step(13, `a bad candidate: v3 (${enc.v3})`, 'A tiny encoder, to show what the gate is for.');
  await register('v3', enc.v3, 'words only, very few dimensions');
  await backfill('v3');
  const activeNow = (await getStatus(db)).versions.find((v) => v.active)?.key ?? 'v1';
  await judgePool('v3', activeNow);
  await judge!.close?.();
  await gate('v3');
  await tryActivate('v3');

  step(
    14,
    'rollback, and back',
    'The previous version is one transaction away; the audit trail knows which one it was.',
  );
  for (const reason of ['demo: rollback drill', 'demo: drill over']) {
    try {
      const rb = await rollback(db, { actor, reason });
      say(`   embctl rollback → ${rb.version} active (was ${rb.previous})`);
    } catch (e) {
      if (!(e instanceof RefusedError)) throw e;
      say(`   embctl rollback → refused (exit 1): ${e.message}`);
    }
  }

  step(15, 'status', 'What `embctl status` shows now.');
  const fin = await getStatus(db);
  say(
    formatTable(
      ['', 'KEY', 'STATE', 'ENCODER', 'DIMS', 'INDEX', 'COVERAGE'],
      fin.versions.map((v) => [
        v.active ? '*' : '',
        v.key,
        v.state,
        v.encoder,
        v.dimensions,
        `${v.index} (${v.indexState})`,
        `${v.embedded}/${v.live}`,
      ]),
    )
      .split('\n')
      .map((l) => `   ${l}`)
      .join('\n'),
  );

  await retriever.close();
  const report = await generateReport(db, {
    out: join(opts.home, 'upgrade-report.html'),
    candidate: 'v2',
    baseline: 'v1',
  });
  return {
    reportPath: report.path,
    gates: results,
    activeAtEnd: fin.versions.find((v) => v.active)?.key ?? null,
    seconds: (performance.now() - t0) / 1000,
  };
}

function printEvaluation(r: EvaluationOutcome, say: (l?: string) => void): void {
  const c = r.candidate;
  const metric = 'ndcg_cut_10';
  const rows: (string | number)[][] = [];
  for (const s of [...c.segments, c.overall]) {
    const cmp = r.comparisons.find((x) => x.segment === s.segment && x.metric === metric);
    const value = s.values[metric];
    rows.push([
      s.segment === 'all' ? 'overall' : s.segment,
      s.queries,
      cmp ? f3(cmp.baseline) : '',
      value === undefined ? '' : f3(value),
      cmp ? signed(cmp.delta) : '',
      cmp ? `[${signed(cmp.ciLower)}, ${signed(cmp.ciUpper)}]` : '',
      cmp ? fp(cmp.pValue) : '',
    ]);
  }
  const base = r.baseline?.version?.key;
  const head = [
    'SEGMENT',
    'QUERIES',
    base ? `${base} nDCG@10` : '',
    `${c.version?.key} nDCG@10`,
    base ? 'DELTA' : '',
    base ? '95% CI' : '',
    base ? 'P' : '',
  ];
  const keep = head.map((h) => h !== '');
  const table = formatTable(
    head.filter((_, i) => keep[i]),
    rows.map((row) => row.filter((_, i) => keep[i])),
  );
  say(
    table
      .split('\n')
      .map((l) => `   ${l}`)
      .join('\n'),
  );
  for (const [key, cov] of [
    [c.version?.key, r.labels?.coverage.candidate],
    [base, r.labels?.coverage.baseline],
  ] as const) {
    if (!key || !cov || cov.after === cov.before) continue;
    const judges = Object.entries(cov.sources).filter(
      ([s]) => s.startsWith('cross-encoder:') || s.startsWith('openai:'),
    );
    const byJudge = judges.reduce((a, [, v]) => a + v, 0);
    say(
      `   ${key}: Judged@${cov.k} ${cov.before.toFixed(2)} with the set's labels → ${cov.after.toFixed(2)} with pooled judgments (${(byJudge * 100).toFixed(0)}% of its top ${cov.k} graded by the judge)`,
    );
  }
  for (const o of r.outcomes) {
    say(`   ${o.status === 'passed' ? 'PASS' : o.status === 'skipped' ? 'SKIP' : 'FAIL'}  ${o.name}: ${o.message}`);
  }
  say(`   → gate ${r.passed ? 'PASSED' : 'FAILED'}${r.passed ? '' : ' (embctl evaluate --gate exits 1)'}`);
}

const f2 = (x: number | null) => (x === null ? '–' : x.toFixed(2));
const f3 = (x: number) => x.toFixed(3);
const signed = (x: number) => `${x >= 0 ? '+' : '−'}${Math.abs(x).toFixed(3)}`;
const fp = (p: number) => (p < 0.001 ? '<0.001' : p.toFixed(3));

export type { JudgedSet };
