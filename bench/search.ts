/**
 * Search: the library's overhead over raw SQL, recall@10 of the default ANN
 * knobs against exact search, and the primary's latency with shadowing at
 * 100% vs off, measured in one run on one server.
 *
 *   node --import tsx bench/search.ts [--url URL] [--rows 50000] [--queries 300] [--json]
 *
 * Data: BEIR SciFact abstracts (read in place from $SCIFACT_DIR or
 * /work/shared/data/scifact) cut into chunks of `--chunk-size` 200 chars
 * (overlap 40) until `--rows` chunks, topped up with synthetic documents if
 * SciFact runs out; ingested, then backfilled through the library with
 * `--primary hash:mixed-384` (active) and `--candidate hash:mixed-768`
 * (shadowed), HNSW m 16, ef_construction 64, built after the load. Queries:
 * the SciFact queries (real claims, embedded by the version's own encoder).
 *
 * Sections (`--sections latency,recall,shadow`):
 *  1. latency: per query, interleaved: `searcher.search` and a replay with a
 *     bare `pg.Client` of exactly the statements the library sent (captured
 *     from the driver: BEGIN, the set_config SELECT, the partition query with
 *     its cast expression, COMMIT), with the query's vector pre-embedded.
 *  2. recall: mean recall@10 of ANN at the default knobs and at each
 *     `--efs` vs `exact: true` on the primary's partition.
 *  3. shadow: the HTTP service (`createService`), load from a worker thread
 *     on 127.0.0.1, `--rounds` rounds alternating shadow off / on (ABBA),
 *     the shadow queue drained before each condition; p50/p99 per condition:
 *     a) closed loop, `--clients` 4 back to back, `--requests` per condition
 *        (saturates the machine: the worst case for shadowing);
 *     b) open loop, Poisson arrivals at `--open-load` 0.3 × the closed
 *        loop's req/s with shadow off, `--open-requests` per condition.
 *     `--shadow-queue N` sets the service's shadow queue size (default 1000).
 *     `--shadow-idle-gate MS` (experiment): emulates a shadower that runs a
 *     candidate search only when no request is in flight (skips it after MS).
 *
 * `--db URL` reuses a database prepared by an earlier run (`--keep` keeps the
 * scratch database and prints its URL) instead of building one.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { openDatabase, type Db } from '../src/db/open.js';
import { migrate } from '../src/migrate/runner.js';
import { silentLogger } from '../src/log/logger.js';
import { createSearcher, DEFAULT_EF_SEARCH, type SearchResult } from '../src/search/index.js';
import { formatVectorText } from '../src/db/vector-codec.js';
import { encoderForVersion } from '../src/versions/encoder-for-version.js';
import { requireVersion } from '../src/versions/store.js';
import { createService } from '../src/serve/server.js';
import { startShadow, stopShadow } from '../src/shadow/config.js';
import { insertShadowQuery } from '../src/shadow/record.js';
import { agreement } from '../src/shadow/metrics.js';
import { intFlag, listFlag, log, machine, median, parseFlags, scratchDatabase, serverUrl, serverVersions, table } from './lib.js';
import { loadQueries, partitionRows, prepare, type CorpusPlan } from './search-data.js';
import { runLoad } from './search-client.js';

const flags = parseFlags(process.argv.slice(2), ['json', 'keep']);
const ROWS = intFlag(flags, 'rows', 50_000);
const CHUNK = intFlag(flags, 'chunk-size', 200);
const OVERLAP = intFlag(flags, 'chunk-overlap', 40);
const NQ = intFlag(flags, 'queries', 300);
const REPS = intFlag(flags, 'latency-reps', 3);
const EFS = listFlag(flags, 'efs', ['40', '100', '200', '400']).map(Number);
const CLIENTS = intFlag(flags, 'clients', 4);
const REQUESTS = intFlag(flags, 'requests', 400);
const OPEN_REQUESTS = intFlag(flags, 'open-requests', 300);
const OPEN_LOAD = Number(flags['open-load'] ?? 0.3);
const IDLE_GATE = intFlag(flags, 'shadow-idle-gate', 0);
const ROUNDS = intFlag(flags, 'rounds', 4);
const WARMUP = intFlag(flags, 'warmup', 30);
const PRIMARY = typeof flags.primary === 'string' ? flags.primary : 'hash:mixed-384';
const CANDIDATE = typeof flags.candidate === 'string' ? flags.candidate : 'hash:mixed-768';
const SECTIONS = new Set(listFlag(flags, 'sections', ['latency', 'recall', 'shadow']));
const K = 10;
const P_KEY = 'bench-primary';
const C_KEY = 'bench-candidate';

// ---------------------------------------------------------------- stats

function quantile(xs: number[], q: number): number {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  // nearest rank
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil(q * s.length) - 1))]!;
}
const p50 = (xs: number[]) => quantile(xs, 0.5);
const p99 = (xs: number[]) => quantile(xs, 0.99);
const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / Math.max(1, xs.length);
const r2 = (x: number) => Math.round(x * 100) / 100;
const r3 = (x: number) => Math.round(x * 1000) / 1000;

// ---------------------------------------------------------------- 1. latency

interface Captured { text: string; values: unknown[] | undefined }

/**
 * The statements one library search sends, read off pg.Client.prototype.query
 * while it runs (the pool's clients are pg.Client instances).
 */
async function captureStatements(fn: () => Promise<unknown>): Promise<Captured[]> {
  const proto = pg.Client.prototype as unknown as { query: (...a: unknown[]) => unknown };
  const original = proto.query;
  const seen: Captured[] = [];
  proto.query = function (this: unknown, ...args: unknown[]) {
    const a = args[0];
    if (typeof a === 'string') seen.push({ text: a, values: Array.isArray(args[1]) ? (args[1] as unknown[]) : undefined });
    else if (a && typeof a === 'object' && 'text' in a) seen.push({ text: String((a as { text: string }).text), values: (a as { values?: unknown[] }).values });
    return original.apply(this, args);
  } as typeof proto.query;
  try {
    await fn();
  } finally {
    proto.query = original;
  }
  return seen;
}

interface LatencyRow { name: string; what: string; ms: number[]; passes: number[][] }

async function latencySection(db: Db, url: string, queries: string[]) {
  const v = await requireVersion(db.kysely, P_KEY);
  // The service's configuration (active version cached, LISTEN/NOTIFY) ...
  const searcher = createSearcher(db, { watchActive: true });
  // ... and the library's default (active version read per request).
  const searcherDefault = createSearcher(db);
  const encoder = await encoderForVersion(v, { logger: silentLogger() });
  const embed = async (q: string) => (await encoder.embed([q]))[0]!;

  // Pre-embed (for the raw side) and warm everything up.
  const vectors = new Map<string, string>();
  for (const q of queries) vectors.set(q, formatVectorText(await embed(q)));
  for (const q of queries.slice(0, WARMUP)) {
    await searcher.search({ query: q, k: K });
    await searcherDefault.search({ query: q, k: K });
  }

  // What the library sends for one search.
  const probe = queries[0]!;
  const stmts = await captureStatements(() => searcher.search({ query: probe, k: K }));
  const probeVec = vectors.get(probe)!;
  const vecParamCount = stmts.reduce((n, s) => n + (s.values ?? []).filter((x) => x === probeVec).length, 0);
  if (vecParamCount === 0) throw new Error(`could not find the query vector among the captured parameters: ${JSON.stringify(stmts.map((s) => s.text))}`);
  const shown = stmts.map((s) => ({ text: s.text.replace(/\s+/g, ' ').trim(), values: (s.values ?? []).map((x) => (x === probeVec ? '<query vector>' : x)) }));
  log(`library statements per search: ${shown.map((s) => s.text.slice(0, 60)).join(' | ')}`);
  const searchStmt = stmts.find((s) => /order by/i.test(s.text));
  if (!searchStmt || !/::vector\(\d+\)|::halfvec\(\d+\)/.test(searchStmt.text)) throw new Error('no partition query with a cast expression captured');

  const client = new pg.Client({ connectionString: url, application_name: 'embctl-bench-raw' });
  await client.connect();
  const replay = async (vec: string) => {
    let rows: unknown[] = [];
    for (const s of stmts) {
      const values = s.values?.map((x) => (x === probeVec ? vec : x));
      const r = values ? await client.query(s.text, values) : await client.query(s.text);
      if (s === searchStmt) rows = r.rows;
    }
    return rows;
  };
  // Diagnostic: the same partition query alone, session-level settings, no transaction.
  const settings = stmts.find((s) => /set_config/.test(s.text));
  const sessionSettings = settings ? { text: settings.text.replace(/, true\)/g, ', false)'), values: settings.values } : undefined;
  const bare = async (vec: string) => (await client.query(searchStmt.text, searchStmt.values!.map((x) => (x === probeVec ? vec : x)))).rows;
  for (const q of queries.slice(0, WARMUP)) await replay(vectors.get(q)!);

  // Sanity: same results both ways.
  const libIds = (await searcher.search({ query: probe, k: K })).hits.map((h) => h.chunkId).join(',');
  const rawIds = (await replay(probeVec)).map((r) => Number((r as { chunk_id: string }).chunk_id)).sort((a, b) => a - b).join(',');
  const libSorted = libIds.split(',').map(Number).sort((a, b) => a - b).join(',');
  if (libSorted !== rawIds) log(`WARNING: library and raw SQL returned different ids for the probe (${libIds} vs ${rawIds})`);

  const rows: Record<string, LatencyRow> = {
    libSearch: { name: 'library searchMs', what: 'timings.searchMs of searcher.search: vector text, transaction (BEGIN, set_config, query, COMMIT), row mapping', ms: [], passes: [] },
    raw: { name: 'raw SQL', what: 'pg.Client: the same 4 statements, pre-embedded vector (same parameter text)', ms: [], passes: [] },
    libE2E: { name: 'library end to end', what: 'wall time of searcher.search (watchActive: the service\'s configuration): resolve, embed, search, hits', ms: [], passes: [] },
    rawEmbed: { name: 'raw SQL + embed', what: 'encoder.embed + vector text + the same 4 statements', ms: [], passes: [] },
    libDefault: { name: 'library e2e, default opts', what: 'createSearcher(db) without watchActive: + one select of the active version per request', ms: [], passes: [] },
    bare: { name: 'raw query alone', what: 'diagnostic: the partition query only, settings set per session, no transaction', ms: [], passes: [] },
  };
  let pass = 0;
  const note = (row: LatencyRow, ms: number) => {
    row.ms.push(ms);
    (row.passes[pass] ??= []).push(ms);
  };
  const timeIt = async (row: LatencyRow, fn: () => Promise<unknown>) => {
    const t0 = performance.now();
    await fn();
    note(row, performance.now() - t0);
  };
  const steps: Array<(q: string) => Promise<void>> = [
    async (q) => {
      const t0 = performance.now();
      const r: SearchResult = await searcher.search({ query: q, k: K });
      note(rows.libE2E!, performance.now() - t0);
      note(rows.libSearch!, r.timings.searchMs);
    },
    (q) => timeIt(rows.raw!, () => replay(vectors.get(q)!)),
    (q) => timeIt(rows.rawEmbed!, async () => replay(formatVectorText(await embed(q)))),
    (q) => timeIt(rows.libDefault!, () => searcherDefault.search({ query: q, k: K })),
  ];
  for (let rep = 0; rep < REPS; rep++) {
    pass = rep;
    for (let i = 0; i < queries.length; i++) {
      // Rotate the order per query so that no method always runs first.
      for (let j = 0; j < steps.length; j++) await steps[(i + j + rep) % steps.length]!(queries[i]!);
    }
  }
  if (sessionSettings) await client.query(sessionSettings.text, sessionSettings.values);
  for (const q of queries.slice(0, WARMUP)) await bare(vectors.get(q)!);
  for (let rep = 0; rep < REPS; rep++) {
    pass = rep;
    for (const q of queries) await timeIt(rows.bare!, () => bare(vectors.get(q)!));
  }
  await client.end();
  await searcher.close();
  await searcherDefault.close();
  await encoder.close?.();

  const summary = Object.entries(rows).map(([id, r]) => ({ id, name: r.name, what: r.what, n: r.ms.length, p50: r3(p50(r.ms)), p99: r3(p99(r.ms)), mean: r3(mean(r.ms)) }));
  const by = Object.fromEntries(summary.map((s) => [s.id, s]));
  // Pooled over all passes, and per pass (each pass: every query once per method) with the median of the passes.
  const ratio = (a: string, b: string) => {
    const A = rows[a]!;
    const B = rows[b]!;
    const perPass = A.passes.map((xs, i) => ({ p50: r2(p50(xs) / p50(B.passes[i]!)), p99: r2(p99(xs) / p99(B.passes[i]!)) }));
    return {
      p50: r2(by[a]!.p50 / by[b]!.p50), p99: r2(by[a]!.p99 / by[b]!.p99),
      perPass, medianPassP50: r2(median(perPass.map((x) => x.p50))), medianPassP99: r2(median(perPass.map((x) => x.p99))),
    };
  };
  const ratios = {
    searchVsRaw: ratio('libSearch', 'raw'),
    e2eVsRawEmbed: ratio('libE2E', 'rawEmbed'),
    defaultE2eVsRawEmbed: ratio('libDefault', 'rawEmbed'),
  };
  return { statements: shown, summary, ratios };
}

// ---------------------------------------------------------------- 2. recall

async function recallSection(db: Db, queries: string[]) {
  const searcher = createSearcher(db);
  const TIE = 1e-6;
  type Acc = { label: string; ef: number | null; recall: number[]; recallTies: number[]; searchMs: number[]; fallbacks: number; short: number };
  const accs: Acc[] = [
    { label: `default (${DEFAULT_EF_SEARCH})`, ef: null, recall: [], recallTies: [], searchMs: [], fallbacks: 0, short: 0 },
    ...EFS.map((ef) => ({ label: String(ef), ef, recall: [], recallTies: [], searchMs: [], fallbacks: 0, short: 0 })),
  ];
  const exactMs: number[] = [];
  let appliedDefault: number | undefined;
  for (const q of queries.slice(0, Math.min(WARMUP, queries.length))) await searcher.search({ query: q, k: K, version: P_KEY });
  for (let i = 0; i < queries.length; i++) {
    const q = queries[i]!;
    const ex = await searcher.search({ query: q, k: K, version: P_KEY, exact: true });
    exactMs.push(ex.timings.searchMs);
    const truth = new Set(ex.hits.map((h) => h.chunkId));
    const kth = ex.hits[ex.hits.length - 1]?.distance ?? Infinity;
    for (let j = 0; j < accs.length; j++) {
      const a = accs[(i + j) % accs.length]!;
      const r = await searcher.search({ query: q, k: K, version: P_KEY, ...(a.ef !== null && { efSearch: a.ef }) });
      if (a.ef === null) appliedDefault = r.efSearch;
      a.searchMs.push(r.timings.searchMs);
      if (r.exactFallback) a.fallbacks++;
      if (r.hits.length < K) a.short++;
      const denom = Math.max(1, truth.size);
      a.recall.push(r.hits.filter((h) => truth.has(h.chunkId)).length / denom);
      a.recallTies.push(Math.min(denom, r.hits.filter((h) => truth.has(h.chunkId) || h.distance <= kth + TIE).length) / denom);
    }
  }
  await searcher.close();
  const rows = accs.map((a) => ({
    efSearch: a.label, recall: r3(mean(a.recall)), recallTies: r3(mean(a.recallTies)),
    minRecall: r3(Math.min(...a.recall)), perfect: r3(a.recall.filter((x) => x === 1).length / a.recall.length),
    p50: r3(p50(a.searchMs)), p99: r3(p99(a.searchMs)), fallbacks: a.fallbacks, short: a.short,
  }));
  const exact = { p50: r3(p50(exactMs)), p99: r3(p99(exactMs)) };
  const reaching = rows.filter((r) => r.efSearch !== rows[0]!.efSearch && r.recall >= 0.95).sort((x, y) => Number(x.efSearch) - Number(y.efSearch))[0];
  return { queries: queries.length, appliedDefault, rows, exact, lowestEfReaching095: reaching?.efSearch ?? null };
}

// ---------------------------------------------------------------- 3. shadow

async function waitDrained(shadower: NonNullable<ReturnType<typeof createService>['shadower']>, timeoutMs = 120_000): Promise<number> {
  const t0 = performance.now();
  for (;;) {
    const s = shadower.stats();
    if (s.queueDepth === 0 && s.inFlight === 0) return performance.now() - t0;
    if (performance.now() - t0 > timeoutMs) throw new Error(`shadow queue not drained after ${timeoutMs} ms (${JSON.stringify(s)})`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

interface Cond { round: number; shadow: boolean; p50: number; p99: number; mean: number; rps: number; errors: number; enqueued: number; completed: number; dropped: number; failed: number; maxQueue: number; drainMs: number }

function summarize(conds: Cond[], rounds: number) {
  const perRound = Array.from({ length: rounds }, (_, i) => {
    const off = conds.find((c) => c.round === i + 1 && !c.shadow)!;
    const on = conds.find((c) => c.round === i + 1 && c.shadow)!;
    return { round: i + 1, p50: r2(on.p50 / off.p50), p99: r2(on.p99 / off.p99), rps: r2(on.rps / off.rps) };
  });
  const allOff = conds.filter((c) => !c.shadow);
  const allOn = conds.filter((c) => c.shadow);
  const sum = (xs: Cond[], f: (c: Cond) => number) => xs.reduce((a, c) => a + f(c), 0);
  return {
    conditions: conds, perRound,
    medianRatio: { p50: r2(median(perRound.map((r) => r.p50))), p99: r2(median(perRound.map((r) => r.p99))), rps: r2(median(perRound.map((r) => r.rps))) },
    spreadP99: { min: Math.min(...perRound.map((r) => r.p99)), max: Math.max(...perRound.map((r) => r.p99)) },
    medianOff: { p50: r3(median(allOff.map((c) => c.p50))), p99: r3(median(allOff.map((c) => c.p99))), rps: median(allOff.map((c) => c.rps)) },
    medianOn: { p50: r3(median(allOn.map((c) => c.p50))), p99: r3(median(allOn.map((c) => c.p99))), rps: median(allOn.map((c) => c.rps)) },
    shadowTotals: { enqueued: sum(allOn, (c) => c.enqueued), completed: sum(allOn, (c) => c.completed), dropped: sum(allOn, (c) => c.dropped), failed: sum(allOn, (c) => c.failed), maxQueue: Math.max(...allOn.map((c) => c.maxQueue)) },
  };
}

async function shadowSection(db: Db, queries: string[]) {
  const queueSize = flags['shadow-queue'] !== undefined ? intFlag(flags, 'shadow-queue', 1000) : undefined;
  const service = createService(db, { logger: silentLogger(), actor: 'bench', ...(queueSize !== undefined && { shadowQueueSize: queueSize }) });
  const shadower = service.shadower!;
  if (IDLE_GATE > 0) {
    // EXPERIMENT, not library behaviour: emulate a shadower that yields to
    // primary traffic. The service's shadower calls service.searcher.search
    // with `version` = the candidate; here such a call waits until no HTTP
    // request is in flight, and gives up after IDLE_GATE ms (the sample is
    // then counted as "failed" by the shadower: read it as skipped).
    const searcher = service.searcher as { search: typeof service.searcher.search };
    const original = searcher.search.bind(service.searcher);
    searcher.search = async (req) => {
      if (req.version === C_KEY) {
        const t0 = performance.now();
        while (service.inFlight() > 0) {
          if (performance.now() - t0 > IDLE_GATE) throw new Error('skipped: primary traffic in flight');
          await new Promise((r) => setTimeout(r, 1));
        }
      }
      return original(req);
    };
  }
  const { port } = await service.listen(0);
  const url = `http://127.0.0.1:${port}/v1/search`;
  const deps = { actor: 'bench' };
  await stopShadow(db, {}, deps);
  await shadower.refresh();
  // Warm up both versions' encoders, caches and the HTTP path.
  await runLoad({ url, queries, clients: CLIENTS, requests: Math.max(50, WARMUP * 2), offset: 0 });
  // What one sampled query costs, serially: the primary's search (as the
  // service runs it) vs what the shadower adds (the candidate search as its
  // SearchFn runs it, then the shadow_queries INSERT).
  const s = createSearcher(db, { watchActive: true });
  for (const q of queries.slice(0, WARMUP)) { await s.search({ query: q, k: K }); await s.search({ query: q, k: K, version: C_KEY }); }
  const pv = await requireVersion(db.kysely, P_KEY);
  const cv = await requireVersion(db.kysely, C_KEY);
  const cost = { primary: { ms: [] as number[], embed: [] as number[], search: [] as number[], resolve: [] as number[] }, candidate: { ms: [] as number[], embed: [] as number[], search: [] as number[], resolve: [] as number[] }, insert: [] as number[] };
  for (const q of queries.slice(0, Math.min(150, queries.length))) {
    const a = await s.search({ query: q, k: K });
    const b = await s.search({ query: q, k: K, version: C_KEY });
    for (const [acc, r] of [[cost.primary, a], [cost.candidate, b]] as const) {
      acc.ms.push(r.ms); acc.embed.push(r.timings.embedMs); acc.search.push(r.timings.searchMs); acc.resolve.push(r.timings.resolveMs);
    }
    const t0 = performance.now();
    const pIds = a.hits.map((h) => h.chunkId);
    const cIds = b.hits.map((h) => h.chunkId);
    await insertShadowQuery(db.kysely, { query: q, storeText: false, segment: null, primaryVersionId: pv.id, candidateVersionId: cv.id, k: K, primaryIds: pIds, candidateIds: cIds, agreement: agreement(pIds, cIds, K), primaryMs: a.ms, candidateMs: b.ms });
    cost.insert.push(performance.now() - t0);
  }
  await s.close();
  const costOf = (c: typeof cost.primary) => ({ p50: r3(p50(c.ms)), mean: r3(mean(c.ms)), resolveMean: r3(mean(c.resolve)), embedMean: r3(mean(c.embed)), searchMean: r3(mean(c.search)) });
  const serialCost = {
    primary: costOf(cost.primary), candidate: costOf(cost.candidate), insertMean: r3(mean(cost.insert)),
    extraPerSampledQuery: r2((mean(cost.candidate.ms) + mean(cost.insert)) / mean(cost.primary.ms)),
  };
  log(`serial cost per query: primary ${serialCost.primary.mean} ms, candidate ${serialCost.candidate.mean} ms + insert ${serialCost.insertMean} ms (= ${serialCost.extraPerSampledQuery}× the primary's work added per sampled query)`);

  let offset = 0;
  const runRounds = async (mode: 'closed' | 'open', requests: number, rate?: number): Promise<Cond[]> => {
    const conds: Cond[] = [];
    for (let round = 1; round <= ROUNDS; round++) {
      const order = round % 2 === 1 ? [false, true] : [true, false];
      for (const on of order) {
        if (on) await startShadow(db, { key: C_KEY, sampleRate: 1 }, deps);
        else await stopShadow(db, {}, deps);
        const target = await shadower.refresh();
        if (Boolean(target) !== on) throw new Error(`shadow configuration not ${on ? 'on' : 'off'} after refresh`);
        await waitDrained(shadower);
        const before = shadower.stats();
        let maxQueue = 0;
        const sampler = setInterval(() => { maxQueue = Math.max(maxQueue, shadower.stats().queueDepth); }, 10);
        // Both conditions of a round get the same queries (and arrival times).
        const load = await runLoad({ url, queries, clients: CLIENTS, requests, offset, ...(rate && { rate, seed: round }) });
        clearInterval(sampler);
        const after = shadower.stats();
        const drainMs = await waitDrained(shadower);
        const done = shadower.stats();
        if (Object.keys(load.versions).some((k) => k !== P_KEY)) throw new Error(`a search was served by another version: ${JSON.stringify(load.versions)}`);
        if (load.errors) log(`WARNING: ${load.errors} failed requests`);
        conds.push({
          round, shadow: on,
          p50: r3(p50(load.latenciesMs)), p99: r3(p99(load.latenciesMs)), mean: r3(mean(load.latenciesMs)),
          rps: Math.round(load.latenciesMs.length / (load.wallMs / 1000)), errors: load.errors,
          enqueued: after.enqueued - before.enqueued, completed: done.completed - before.completed,
          dropped: done.dropped - before.dropped, failed: done.failed - before.failed, maxQueue, drainMs: Math.round(drainMs),
        });
        log(`shadow ${mode} round ${round} ${on ? 'on ' : 'off'}: p50 ${p50(load.latenciesMs).toFixed(2)} ms, p99 ${p99(load.latenciesMs).toFixed(2)} ms, ${conds.at(-1)!.rps} req/s, queue max ${maxQueue}, drain ${Math.round(drainMs)} ms`);
      }
      offset += requests;
    }
    return conds;
  };

  const closed = summarize(await runRounds('closed', REQUESTS), ROUNDS);
  let open: (ReturnType<typeof summarize> & { rate: number; load: number }) | undefined;
  if (OPEN_LOAD > 0) {
    const rate = Math.max(1, Math.round(closed.medianOff.rps * OPEN_LOAD));
    open = { ...summarize(await runRounds('open', OPEN_REQUESTS, rate), ROUNDS), rate, load: OPEN_LOAD };
  }
  await stopShadow(db, {}, deps);
  await service.close();
  return { serialCost, idleGateMs: IDLE_GATE, clients: CLIENTS, requestsPerCondition: REQUESTS, openRequestsPerCondition: OPEN_REQUESTS, rounds: ROUNDS, shadowQueueSize: queueSize ?? 1000, closed, open };
}

// ---------------------------------------------------------------- main

async function main(): Promise<void> {
  const started = performance.now();
  const admin = serverUrl(flags);
  const server = await serverVersions(admin);
  const reuse = typeof flags.db === 'string' ? flags.db : undefined;
  const scratch = reuse ? undefined : await scratchDatabase(admin, 'search');
  const url = reuse ?? scratch!.url;
  const home = mkdtempSync(join(tmpdir(), 'embctl-bench-search-home-'));
  let db: Db | undefined;
  try {
    db = await openDatabase({ databaseUrl: url, homeDir: home, logger: silentLogger() });
    await migrate(db, { logger: silentLogger() });
    const setup = await prepare(db, ROWS, CHUNK, OVERLAP, [{ key: P_KEY, encoder: PRIMARY }, { key: C_KEY, encoder: CANDIDATE }]);
    const partition = { primary: await partitionRows(db, P_KEY), candidate: await partitionRows(db, C_KEY) };
    const queries = loadQueries(NQ);
    log(`partition rows: primary ${partition.primary}, candidate ${partition.candidate}; ${queries.length} queries`);

    const out: Record<string, unknown> = {
      benchmark: 'search', date: new Date().toISOString(), machine: machine(), server,
      data: { rows: ROWS, chunkSize: CHUNK, chunkOverlap: OVERLAP, corpus: setup.plan as CorpusPlan | null, liveChunks: setup.liveChunks, partition, primary: PRIMARY, candidate: CANDIDATE, index: { kind: 'hnsw', m: 16, efConstruction: 64 } },
      setup: { ingestS: r2(setup.ingestS), backfillS: Object.fromEntries(Object.entries(setup.backfillS).map(([k, v]) => [k, r2(v)])) },
      queries: queries.length,
    };
    if (SECTIONS.has('latency')) { log('1/3 latency: library vs raw SQL'); out.latency = await latencySection(db, url, queries); }
    if (SECTIONS.has('recall')) { log('2/3 recall@10 vs exact'); out.recall = await recallSection(db, queries); }
    if (SECTIONS.has('shadow')) { log('3/3 primary latency with shadow 100% vs off (HTTP)'); out.shadow = await shadowSection(db, queries); }
    out.seconds = Math.round((performance.now() - started) / 100) / 10;
    out.machineAfter = machine();
    if (flags.json === true) console.log(JSON.stringify(out, null, 2));
    else print(out);
    if (flags.keep === true && scratch) log(`kept database: ${url}`);
  } finally {
    await db?.close();
    if (scratch && flags.keep !== true) await scratch.drop();
    rmSync(home, { recursive: true, force: true });
  }
}

function print(out: Record<string, any>): void {
  const d = out.data;
  const m = out.machineAfter;
  console.log(`search — PostgreSQL ${out.server.postgres} + pgvector ${out.server.pgvector}, ${m.cores} cores (load avg ${m.loadavg1m} at the end), Node ${m.node}`);
  const corpus = d.corpus ? `${d.corpus.scifactDocs} SciFact docs → ${d.corpus.scifactChunks} chunks (≤${d.chunkSize} chars, overlap ${d.chunkOverlap}) + ${d.corpus.syntheticDocs} synthetic` : 'reused database';
  console.log(`data: ${corpus}; partitions: primary ${d.primary} ${d.partition.primary} rows (active), candidate ${d.candidate} ${d.partition.candidate} rows; HNSW m 16, ef_construction 64; ${out.queries} SciFact queries, k ${K}`);
  if (out.setup.ingestS) console.log(`setup: ingest ${out.setup.ingestS} s, backfill+index ${Object.entries(out.setup.backfillS).map(([k, v]) => `${k} ${v} s`).join(', ')}`);
  if (out.latency) {
    const L = out.latency;
    console.log('');
    console.log(`1. latency, library vs raw SQL (${L.summary[0].n} searches each, interleaved per query, serial), ms`);
    console.log(table(['measure', 'p50', 'p99', 'mean', 'what'], L.summary.map((s: any) => [s.name, s.p50, s.p99, s.mean, s.what])));
    console.log('');
    const rr = (name: string, x: any, target: string) => [name, x.p50, x.p99, x.perPass.map((p: any) => p.p99).join(' / '), x.medianPassP99, target];
    console.log(table(['ratio', 'p50', 'p99', 'p99 per pass', 'median pass p99', 'target'], [
      rr('library searchMs / raw SQL', L.ratios.searchVsRaw, '≤ 1.2'),
      rr('library e2e / raw SQL + embed', L.ratios.e2eVsRawEmbed, '≤ 1.2'),
      rr('library e2e (default opts) / raw SQL + embed', L.ratios.defaultE2eVsRawEmbed, '—'),
    ]));
    console.log(`statements per library search: ${L.statements.map((s: any) => s.text.length > 90 ? s.text.slice(0, 90) + '…' : s.text).join('  ⟶  ')}`);
  }
  if (out.recall) {
    const R = out.recall;
    console.log('');
    console.log(`2. recall@10 vs exact search, ${R.queries} queries on the primary partition (exact: p50 ${R.exact.p50} ms, p99 ${R.exact.p99} ms)`);
    console.log(table(['ef_search', 'recall@10', 'with ties', 'min', 'all 10 found', 'p50 ms', 'p99 ms', 'exact fallbacks'], R.rows.map((r: any) => [r.efSearch, r.recall, r.recallTies, r.minRecall, r.perfect, r.p50, r.p99, r.fallbacks])));
    const def = R.rows[0];
    console.log(`default (ef_search ${R.appliedDefault}): recall@10 ${def.recall} (target ≥ 0.95)${def.recall >= 0.95 ? ' — OK' : ` — MISSED; lowest ef_search reaching 0.95: ${R.lowestEfReaching095 ?? 'none of ' + EFS.join('/')}`}`);
  }
  if (out.shadow) {
    const S = out.shadow;
    const show = (title: string, X: any) => {
      console.log('');
      console.log(title);
      console.log(table(['round', 'shadow', 'p50', 'p99', 'mean', 'req/s', 'errors', 'enqueued', 'completed', 'dropped', 'failed', 'max queue', 'drain ms'], X.conditions.map((c: any) => [
        String(c.round), c.shadow ? 'on' : 'off', c.p50, c.p99, c.mean, c.rps, c.errors, c.enqueued, c.completed, c.dropped, c.failed, c.maxQueue, c.drainMs,
      ])));
      console.log(`per round on/off: p50 ${X.perRound.map((r: any) => r.p50).join(' / ')}; p99 ${X.perRound.map((r: any) => r.p99).join(' / ')}; req/s ${X.perRound.map((r: any) => r.rps).join(' / ')}`);
      console.log(`median p99 on/off = ${X.medianRatio.p99} (spread ${X.spreadP99.min}–${X.spreadP99.max}; target ≤ 1.05); median p50 on/off = ${X.medianRatio.p50}; req/s on/off = ${X.medianRatio.rps}`);
      console.log(`shadow queue: ${X.shadowTotals.enqueued} enqueued, ${X.shadowTotals.completed} completed, ${X.shadowTotals.dropped} dropped, ${X.shadowTotals.failed} failed, deepest ${X.shadowTotals.maxQueue} (queue size ${S.shadowQueueSize})`);
    };
    const C = S.serialCost;
    console.log('');
    console.log('3. what shadowing adds per sampled query (serial, 150 queries, library timings, ms)');
    console.log(table(['search', 'p50', 'mean', 'resolve', 'embed', 'search (SQL)'], [
      [`primary ${out.data.primary} (active, cached)`, C.primary.p50, C.primary.mean, C.primary.resolveMean, C.primary.embedMean, C.primary.searchMean],
      [`candidate ${out.data.candidate} (version: key)`, C.candidate.p50, C.candidate.mean, C.candidate.resolveMean, C.candidate.embedMean, C.candidate.searchMean],
    ]));
    console.log(`+ shadow_queries INSERT ${C.insertMean} ms ⇒ at 100% sampling each request costs ${C.extraPerSampledQuery}× the primary's own work on top (same CPUs: Node, PostgreSQL)`);
    if (S.idleGateMs) console.log(`EXPERIMENT --shadow-idle-gate ${S.idleGateMs}: candidate searches wait until no request is in flight, skipped after ${S.idleGateMs} ms ("failed" = skipped)`);
    show(`3a. primary latency through HTTP, shadow 100% vs off, CLOSED loop (saturating): ${S.clients} clients back to back (worker thread), ${S.requestsPerCondition} requests per condition, ${S.rounds} rounds ABBA, ms`, S.closed);
    if (S.open) show(`3b. the same, OPEN loop: Poisson arrivals at ${S.open.rate} req/s (${S.open.load} × the closed-loop req/s with shadow off), ${S.openRequestsPerCondition} requests per condition, ms`, S.open);
  }
  console.log('');
  console.log(`total ${out.seconds} s`);
}

main().catch((e) => {
  console.error(e);
  process.exitCode = 1;
});
