/**
 * Search: embctl's search against the query a pgvector user writes by hand,
 * recall@10 of the default ANN knobs against exact search, and the
 * primary's latency with shadowing at 100% vs off, in one run on one server.
 *
 *   node --import tsx bench/search.ts [--url URL] [--rows 50000] [--queries 300] [--json]
 *        [--primary hash:mixed-384] [--candidate hash:mixed-1536] [--latency-on primary,candidate]
 *        [--latency-passes 5] [--exact-queries 300] [--exact-queries-candidate 100]
 *        [--sections latency,recall,shadow] [--keep] [--db URL]
 *
 * Data: BEIR SciFact abstracts (EMBCTL_SCIFACT_DIR, read in place; without it:
 * exit 2) cut into chunks of
 * `--chunk-size` 200 chars (overlap 40) until `--rows` chunks (synthetic
 * documents top it up if SciFact runs out), ingested, then backfilled through
 * the library: `--primary` (activated) and `--candidate`, HNSW m 16,
 * ef_construction 64, built by the backfill after the load, then ANALYZE.
 * Queries: the SciFact queries (real claims), embedded by each version's own
 * encoder.
 *
 * Exact top-10 per query (the truth for recall): a separate session with
 * index scans off, `SELECT chunk_id … ORDER BY <distance>, chunk_id LIMIT 10`.
 *
 * Sections:
 *  1. latency, for each version of `--latency-on` (each made the active one
 *     in turn, as a service would serve it), `--latency-passes` passes, serial;
 *     each pass runs three rotations over the queries (per query, the methods
 *     in a rotating order): library vs bare; library vs the HTTP measures; the
 *     diagnostics with a library of their own. Each target compares methods of
 *     one rotation:
 *     - library: wall time of `searcher.search({ query, k: 10 })` with
 *       `watchActive` (the service's configuration): resolve, embed, search, hits;
 *     - bare: what a pgvector user writes by hand: the same encoder's `embed`,
 *       the vector written as pgvector-node writes it (`pgvector.toSql`, text),
 *       then ONE statement, one round trip, on a pg.Client whose session did
 *       `SET hnsw.ef_search = <the library's default>` once:
 *       `SELECT chunk_id FROM <partition> ORDER BY embedding::vector(d) <=> $1 LIMIT 10`;
 *     - POST /v1/search: the service as `embctl serve` runs it
 *       (createService), serially over one kept-alive connection on
 *       127.0.0.1 from this thread, by a raw client that writes the request
 *       in one piece and reads the response by its Content-Length, as load
 *       generators do (`rawHttpSearch`); node's http.request client beside it,
 *       as a diagnostic;
 *     - node:http + library: the floor under POST /v1/search, a bare
 *       node:http server in this process around its own searcher
 *       (bench/search-client.ts), called by the same raw client: what any
 *       node:http service pays here over the library, and what embctl's HTTP
 *       layer adds over it;
 *     - diagnostics: the library's default options (no watchActive: the
 *       active version read per request); its own `timings.searchMs`; the
 *       bare statement alone with the vector embedded beforehand.
 *     Same ef_search on both sides, and the recall@10 of both is printed.
 *     p50 and p99 are pooled over all queries of all passes.
 *  2. recall: mean recall@10 of the library at its default knobs and at each
 *     `--efs`, against the exact top-10, on the primary.
 *  3. shadow: the HTTP service (`createService`), load from a worker thread on
 *     127.0.0.1, `--rounds` rounds alternating shadow off / on (ABBA), the
 *     candidate shadowed at 100%. A condition's window runs from its first
 *     request until its last answer AND the end of the shadow work it caused
 *     (queue drained): req/s are over that window; sampled queries completed,
 *     dropped and failed are counted per condition. p50/p99 pooled per condition kind.
 *     a) closed loop, `--clients` 4 back to back, `--requests` 400 per condition
 *        (saturates the machine: the worst case for shadowing);
 *     b) open loop, Poisson arrivals at `--open-load` 0.3 × the closed loop's
 *        req/s with shadow off, `--open-requests` 300 per condition.
 *
 * `--keep` keeps the scratch database and prints its URL; `--db URL` reuses it.
 *
 * Its output ends with one line per target (bench/lib.ts printTargets):
 *   TARGET search-<dims>d-p50: <library / bare query> (goal <= 1.1) OK|MISS
 *   TARGET search-<dims>d-p99: <library / bare query> (goal <= 1.2) OK|MISS
 *   TARGET serve-<dims>d-p50-over-library-ms: <POST /v1/search p50 − library p50> (goal <= 1) OK|MISS
 *   TARGET recall@10-<dims>d-default-ef: <recall> (goal >= 0.95) OK|MISS
 *   TARGET shadow-open-loop-p99: <with shadow / without> (goal <= 1.05) OK|MISS
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import pgvector from 'pgvector';
import { openDatabase, type Db } from '../src/db/open.js';
import { migrate } from '../src/migrate/runner.js';
import { silentLogger } from '../src/log/logger.js';
import { createSearcher, DEFAULT_EF_SEARCH } from '../src/search/index.js';
import { formatVectorText } from '../src/db/vector-codec.js';
import { encoderForVersion } from '../src/versions/encoder-for-version.js';
import { requireVersion } from '../src/versions/store.js';
import { distanceOperator, partitionTable, queryCast } from '../src/partitions/partition.js';
import { activate } from '../src/lifecycle/index.js';
import { createService } from '../src/serve/server.js';
import { startShadow, stopShadow } from '../src/shadow/config.js';
import { insertShadowQuery } from '../src/shadow/record.js';
import { agreement } from '../src/shadow/agreement.js';
import {
  header,
  intFlag,
  choicesFlag,
  numListFlag,
  loadAverages,
  log,
  mean,
  p50,
  p99,
  parseFlags,
  printTargets,
  requireScifact,
  scratchDatabase,
  serverUrl,
  serverVersions,
  table,
  target,
  type Target,
} from './lib.js';
import { loadQueries, partitionRows, prepare, type CorpusPlan } from './search-data.js';
import { httpSearch, rawHttpSearch, runLoad, startHttpFloor } from './search-client.js';

const flags = parseFlags(process.argv.slice(2), ['json', 'keep']);
const ROWS = intFlag(flags, 'rows', 50_000);
const CHUNK = intFlag(flags, 'chunk-size', 200);
const OVERLAP = intFlag(flags, 'chunk-overlap', 40);
const NQ = intFlag(flags, 'queries', 300);
const PASSES = Math.max(1, intFlag(flags, 'latency-passes', 5));
const EXACT_Q = intFlag(flags, 'exact-queries', 300);
const EXACT_Q_CANDIDATE = intFlag(flags, 'exact-queries-candidate', 100);
const EFS = numListFlag(flags, 'efs', [40, 100, 200, 400]);
const CLIENTS = intFlag(flags, 'clients', 4);
const REQUESTS = intFlag(flags, 'requests', 400);
const OPEN_REQUESTS = intFlag(flags, 'open-requests', 300);
const OPEN_LOAD = Number(flags['open-load'] ?? 0.3);
const ROUNDS = intFlag(flags, 'rounds', 4);
const WARMUP = intFlag(flags, 'warmup', 30);
const PRIMARY = typeof flags.primary === 'string' ? flags.primary : 'hash:mixed-384';
const CANDIDATE = typeof flags.candidate === 'string' ? flags.candidate : 'hash:mixed-1536';
const SECTIONS = new Set(choicesFlag(flags, 'sections', ['latency', 'recall', 'shadow']));
const LATENCY_ON = choicesFlag(flags, 'latency-on', ['primary', 'candidate']);
const K = 10;
const P_KEY = 'bench-primary';
const C_KEY = 'bench-candidate';
const GOAL = { p50: 1.1, p99: 1.2, recall: 0.95, shadowP99: 1.05, httpOverLibMs: 1 };

const r2 = (x: number) => Math.round(x * 100) / 100;
const r3 = (x: number) => Math.round(x * 1000) / 1000;

type Version = Awaited<ReturnType<typeof requireVersion>>;

// ---------------------------------------------------------------- exact truth

interface Truth {
  ids: number[];
  kth: number;
}

/** Exact top-K per query vector: its own session, index scans off, ties broken by chunk id. */
async function exactTruth(url: string, v: Version, vectors: string[]): Promise<{ truth: Truth[]; ms: number[] }> {
  const c = new pg.Client({ connectionString: url, application_name: 'embctl-bench-exact' });
  await c.connect();
  try {
    await c.query('SET enable_indexscan = off');
    await c.query('SET enable_bitmapscan = off');
    const text = `SELECT chunk_id, embedding::${queryCast(v)} ${distanceOperator(v.distance_metric)} $1::${queryCast(v)} AS distance
                  FROM ${partitionTable(v.id)} ORDER BY distance, chunk_id LIMIT ${K}`;
    const truth: Truth[] = [];
    const ms: number[] = [];
    for (const vec of vectors) {
      const t0 = performance.now();
      const r = await c.query<{ chunk_id: string; distance: number }>(text, [vec]);
      ms.push(performance.now() - t0);
      truth.push({ ids: r.rows.map((x) => Number(x.chunk_id)), kth: Number(r.rows.at(-1)?.distance ?? Infinity) });
    }
    return { truth, ms };
  } finally {
    await c.end();
  }
}

const recallOf = (got: number[], t: Truth) => got.filter((id) => t.ids.includes(id)).length / Math.max(1, t.ids.length);

// ---------------------------------------------------------------- 1. latency

/** The statements one library search sends (for the record), read off pg.Client.prototype.query. */
async function captureStatements(fn: () => Promise<unknown>): Promise<string[]> {
  const proto = pg.Client.prototype as unknown as { query: (...a: unknown[]) => unknown };
  const original = proto.query;
  const seen: string[] = [];
  proto.query = function (this: unknown, ...args: unknown[]) {
    const a = args[0];
    const text =
      typeof a === 'string'
        ? a
        : a && typeof a === 'object' && 'text' in a
          ? String((a as { text: string }).text)
          : '?';
    const named = a && typeof a === 'object' && 'name' in a && (a as { name?: string }).name;
    seen.push(`${named ? '[prepared] ' : ''}${text.replace(/\s+/g, ' ').trim()}`);
    return original.apply(this, args);
  } as typeof proto.query;
  try {
    await fn();
  } finally {
    proto.query = original;
  }
  return seen;
}

/**
 * The plan PostgreSQL keeps for the library's prepared statement once it
 * switches to a generic plan (forced here): it must still walk the
 * partition's ANN index, whatever the query vector.
 */
async function genericPlanOf(client: pg.Client, statements: string[], vector: string): Promise<string[]> {
  const text = statements.find((x) => x.startsWith('[prepared] '))?.slice('[prepared] '.length);
  if (!text) throw new Error(`the library's search is not a prepared statement: ${statements.join(' | ')}`);
  await client.query('set plan_cache_mode = force_generic_plan');
  await client.query(`prepare bench_generic as ${text}`);
  try {
    // EXPLAIN EXECUTE takes its arguments inline (the vector text is pgvector.toSql's digits).
    const { rows } = await client.query<{ 'QUERY PLAN': string }>(`explain execute bench_generic('${vector}', ${K})`);
    const plan = rows.map((r) => r['QUERY PLAN'].trim());
    if (!plan.some((l) => /Index Scan using \S+_ann on chunk_embeddings_v\d+/.test(l)))
      throw new Error(`the library's generic plan does not use the partition's index:\n${plan.join('\n')}`);
    return plan;
  } finally {
    await client.query('deallocate bench_generic');
    await client.query('reset plan_cache_mode');
  }
}

interface Series {
  name: string;
  what: string;
  ms: number[];
}

/** Section 1 for one version; whatever it opened is closed even when it fails (else the pool never drains). */
async function latencySection(db: Db, url: string, key: string, queries: string[], truth: Truth[]) {
  const closers: Array<() => Promise<unknown> | void> = [];
  try {
    return await measureLatency(db, url, key, queries, truth, closers);
  } finally {
    for (const close of closers.reverse()) await Promise.resolve(close()).catch(() => {});
  }
}

async function measureLatency(
  db: Db,
  url: string,
  key: string,
  queries: string[],
  truth: Truth[],
  closers: Array<() => Promise<unknown> | void>,
) {
  const v = await requireVersion(db.kysely, key);
  await activate(db, key, {
    actor: 'bench',
    force: true,
    reason: 'benchmark: latency of this version as the active one',
  });
  const searcher = createSearcher(db, { watchActive: true });
  closers.push(() => searcher.close());
  const searcherDefault = createSearcher(db);
  closers.push(() => searcherDefault.close());
  // The service as `embctl serve` runs it (its own searcher, watchActive), called over HTTP.
  const service = createService(db, { logger: silentLogger(), actor: 'bench' });
  closers.push(() => service.close());
  const { port } = await service.listen(0);
  // The measuring client (a raw kept-alive socket), and node's own client as a diagnostic.
  const client = rawHttpSearch(`http://127.0.0.1:${port}/v1/search`);
  closers.push(() => client.close());
  const nodeClient = httpSearch(`http://127.0.0.1:${port}/v1/search`);
  closers.push(() => nodeClient.close());
  // The floor under it: a bare node:http server around its own searcher (watchActive), the same raw client.
  const floorSearcher = createSearcher(db, { watchActive: true });
  closers.push(() => floorSearcher.close());
  const floor = await startHttpFloor(floorSearcher);
  closers.push(() => floor.close());
  const floorClient = rawHttpSearch(floor.url);
  closers.push(() => floorClient.close());
  const encoder = await encoderForVersion(v, { logger: silentLogger() });
  closers.push(() => encoder.close?.());
  // The vector as a pgvector user sends it: pgvector-node's toSql (text), for every bare measure.
  const embedText = async (q: string) => pgvector.toSql(Array.from((await encoder.embed([q]))[0]!)) as string;
  const vectors = await Promise.all(queries.map(embedText));

  const bare = new pg.Client({ connectionString: url, application_name: 'embctl-bench-bare' });
  await bare.connect();
  closers.push(() => bare.end());
  await bare.query(`SET hnsw.ef_search = ${DEFAULT_EF_SEARCH}`);
  const bareSql = `SELECT chunk_id FROM ${partitionTable(v.id)} ORDER BY embedding::${queryCast(v)} ${distanceOperator(v.distance_metric)} $1 LIMIT ${K}`;
  const plan = (
    await bare.query<{ 'QUERY PLAN': string }>(`EXPLAIN ${bareSql.replace('$1', `'${vectors[0]!}'`)}`)
  ).rows.map((r) => r['QUERY PLAN'].trim());
  if (!plan.some((l) => /Index Scan using \S+ on chunk_embeddings_v\d+/.test(l)))
    throw new Error(`the bare query does not use the partition's index:\n${plan.join('\n')}`);
  const runBare = async (vec: string) =>
    (await bare.query<{ chunk_id: string }>(bareSql, [vec])).rows.map((r) => Number(r.chunk_id));
  // Diagnostic: the same bare statement with pgvector's iterative scan on (what the library uses for filtered searches).
  const bareIter = new pg.Client({ connectionString: url, application_name: 'embctl-bench-bare-iterative' });
  await bareIter.connect();
  closers.push(() => bareIter.end());
  await bareIter.query(`SET hnsw.ef_search = ${DEFAULT_EF_SEARCH}`);
  await bareIter.query(`SET hnsw.iterative_scan = relaxed_order`);
  const runBareIter = async (vec: string) => bareIter.query(bareSql, [vec]);

  // Warm up every path, and two pooled connections: the steady state of a
  // service. The service in this process refreshes its shadow settings every
  // 5 s; a refresh that overlaps a search needs a second connection, and
  // pg-pool hands the next searches to the connection released last: opened
  // only then, it would be cold (src/db/open.ts, POOL_IDLE_MS), ten slow
  // searches in the library's samples and none in the bare query's.
  for (const [i, q] of queries.slice(0, WARMUP).entries()) {
    await Promise.all([searcher.search({ query: q, k: K }), searcherDefault.search({ query: q, k: K })]);
    await searcher.search({ query: q, k: K });
    await searcherDefault.search({ query: q, k: K });
    await runBare(vectors[i]!);
    await client.search(q, K);
    await nodeClient.search(q, K);
    await floorClient.search(q, K);
    await runBareIter(vectors[i]!);
  }
  const statements = await captureStatements(() => searcher.search({ query: queries[0]!, k: K }));
  const genericPlan = await genericPlanOf(bare, statements, vectors[0]!);
  const first = await searcher.search({ query: queries[0]!, k: K });
  if (first.version !== key) throw new Error(`the searcher served ${first.version}, not ${key}`);

  const s: Record<string, Series> = {
    lib: {
      name: 'library',
      what: 'searcher.search wall time (watchActive, as the service runs it): embed + search + hits',
      ms: [],
    },
    bare: {
      name: 'bare',
      what: 'embed with the same encoder + the one-statement query (ef_search set once per session)',
      ms: [],
    },
    libHttp: {
      name: 'library (HTTP rotation)',
      what: 'the same searcher.search, in the rotation of the HTTP measures below: their reference',
      ms: [],
    },
    http: {
      name: 'POST /v1/search',
      what: 'the service (createService, as embctl serve runs it) on 127.0.0.1, one kept-alive connection, the raw client',
      ms: [],
    },
    httpFloor: {
      name: 'node:http + library',
      what: 'the floor: a bare node:http server around searcher.search (no routing, validation, admission, metrics), the raw client',
      ms: [],
    },
    httpNode: {
      name: 'POST /v1/search, node client',
      what: "the same service called through node's http.request (keep-alive agent) instead of the raw client",
      ms: [],
    },
    libDiag: {
      name: 'library (diagnostics rotation)',
      what: 'the same searcher.search, in the rotation of the diagnostics below: their reference',
      ms: [],
    },
    libDefault: {
      name: 'library, default options',
      what: 'createSearcher(db) without watchActive: + one select of the active version per request',
      ms: [],
    },
    libSearchMs: {
      name: 'library timings.searchMs',
      what: "the library's own timing of its SQL (settings when they differ, query)",
      ms: [],
    },
    bareAlone: { name: 'bare statement alone', what: 'the one statement with the vector embedded beforehand', ms: [] },
    bareIter: {
      name: 'bare alone, iterative scan',
      what: 'the same statement alone on a session with hnsw.iterative_scan = relaxed_order',
      ms: [],
    },
  };
  const hitsLib: number[][] = [];
  const hitsBare: number[][] = [];
  const time = async <T>(series: Series, fn: () => Promise<T>): Promise<T> => {
    const t0 = performance.now();
    const out = await fn();
    series.ms.push(performance.now() - t0);
    return out;
  };
  // One rotation: every query, its methods in an order that shifts per query and pass (no method always runs first).
  const rotation = async (pass: number, stepsOf: (q: string, i: number) => Array<() => Promise<void>>) => {
    for (let i = 0; i < queries.length; i++) {
      const steps = stepsOf(queries[i]!, i);
      for (let j = 0; j < steps.length; j++) await steps[(i + pass + j) % steps.length]!();
    }
  };
  // Three rotations per pass, each over all queries, each comparing only its own methods (see
  // bench/README.md): which other connections ran in between moved a method's latency by
  // 1-2 ms on this machine, so no target compares methods of different rotations.
  for (let pass = 0; pass < PASSES; pass++) {
    // A. The target: the library vs the bare query, each on its own connection, alternating.
    await rotation(pass, (q, i) => [
      async () => {
        const r = await time(s.lib!, () => searcher.search({ query: q, k: K }));
        if (pass === 0) hitsLib[i] = r.hits.map((h) => h.chunkId);
      },
      async () => {
        const ids = await time(s.bare!, async () => runBare(await embedText(q)));
        if (pass === 0) hitsBare[i] = ids;
      },
    ]);
    // B. The HTTP measures and their own library reference.
    await rotation(pass, (q) => [
      async () => {
        await time(s.libHttp!, () => searcher.search({ query: q, k: K }));
      },
      async () => {
        const r = await time(s.http!, () => client.search(q, K));
        if (r.version !== key) throw new Error(`the service served ${r.version}, not ${key}`);
      },
      async () => {
        await time(s.httpFloor!, () => floorClient.search(q, K));
      },
      async () => {
        await time(s.httpNode!, () => nodeClient.search(q, K));
      },
    ]);
    // C. Diagnostics, with their own library and bare statement.
    await rotation(pass, (q, i) => [
      async () => {
        const r = await time(s.libDiag!, () => searcher.search({ query: q, k: K }));
        s.libSearchMs!.ms.push(r.timings.searchMs);
      },
      async () => {
        await time(s.libDefault!, () => searcherDefault.search({ query: q, k: K }));
      },
      async () => {
        await time(s.bareAlone!, () => runBare(vectors[i]!));
      },
      async () => {
        await time(s.bareIter!, () => runBareIter(vectors[i]!));
      },
    ]);
  }

  const judged = Math.min(truth.length, queries.length);
  const recall = (hits: number[][]) =>
    r3(mean(Array.from({ length: judged }, (_, i) => recallOf(hits[i]!, truth[i]!))));
  const summary = Object.entries(s).map(([id, x]) => ({
    id,
    name: x.name,
    what: x.what,
    n: x.ms.length,
    p50: r3(p50(x.ms)),
    p99: r3(p99(x.ms)),
    mean: r3(mean(x.ms)),
  }));
  const by = Object.fromEntries(summary.map((x) => [x.id, x]));
  const ratio = (a: string, b: string) => ({ p50: r2(by[a]!.p50 / by[b]!.p50), p99: r2(by[a]!.p99 / by[b]!.p99) });
  const minus = (a: string, b: string) => ({ p50: r2(by[a]!.p50 - by[b]!.p50), p99: r2(by[a]!.p99 - by[b]!.p99) });
  return {
    version: key,
    encoder: v.encoder_spec,
    dims: v.dimensions,
    efSearch: DEFAULT_EF_SEARCH,
    bareSql,
    plan,
    statements,
    genericPlan,
    summary,
    recall: { judged, library: recall(hitsLib), bare: recall(hitsBare) },
    ratios: {
      libVsBare: ratio('lib', 'bare'),
      defaultVsLib: ratio('libDefault', 'libDiag'),
      searchMsVsBareAlone: ratio('libSearchMs', 'bareAlone'),
      iterativeVsBareAlone: ratio('bareIter', 'bareAlone'),
      httpMinusLib: minus('http', 'libHttp'),
      floorMinusLib: minus('httpFloor', 'libHttp'),
      httpMinusFloor: minus('http', 'httpFloor'),
      nodeClientMinusRaw: minus('httpNode', 'http'),
    },
  };
}

// ---------------------------------------------------------------- 2. recall

async function recallSection(db: Db, queries: string[], truth: Truth[]) {
  const searcher = createSearcher(db);
  const TIE = 1e-6;
  type Acc = {
    label: string;
    ef: number | null;
    recall: number[];
    recallTies: number[];
    searchMs: number[];
    fallbacks: number;
  };
  const accs: Acc[] = [
    { label: `default (${DEFAULT_EF_SEARCH})`, ef: null, recall: [], recallTies: [], searchMs: [], fallbacks: 0 },
    ...EFS.map((ef) => ({ label: String(ef), ef, recall: [], recallTies: [], searchMs: [], fallbacks: 0 })),
  ];
  let appliedDefault: number | undefined;
  for (const q of queries.slice(0, WARMUP)) await searcher.search({ query: q, k: K, version: P_KEY });
  for (let i = 0; i < truth.length; i++) {
    const q = queries[i]!;
    const t = truth[i]!;
    for (let j = 0; j < accs.length; j++) {
      const a = accs[(i + j) % accs.length]!;
      const r = await searcher.search({ query: q, k: K, version: P_KEY, ...(a.ef !== null && { efSearch: a.ef }) });
      if (a.ef === null) appliedDefault = r.efSearch;
      a.searchMs.push(r.timings.searchMs);
      if (r.exactFallback) a.fallbacks++;
      const ids = r.hits.map((h) => h.chunkId);
      a.recall.push(recallOf(ids, t));
      a.recallTies.push(
        Math.min(
          1,
          r.hits.filter((h) => t.ids.includes(h.chunkId) || h.distance <= t.kth + TIE).length /
            Math.max(1, t.ids.length),
        ),
      );
    }
  }
  await searcher.close();
  const rows = accs.map((a) => ({
    efSearch: a.label,
    recall: r3(mean(a.recall)),
    recallTies: r3(mean(a.recallTies)),
    minRecall: r3(Math.min(...a.recall)),
    perfect: r3(a.recall.filter((x) => x === 1).length / a.recall.length),
    p50: r3(p50(a.searchMs)),
    p99: r3(p99(a.searchMs)),
    fallbacks: a.fallbacks,
  }));
  return { queries: truth.length, appliedDefault, rows };
}

// ---------------------------------------------------------------- 3. shadow

type ShadowerT = NonNullable<ReturnType<typeof createService>['shadower']>;

async function waitDrained(shadower: ShadowerT, timeoutMs = 300_000): Promise<number> {
  const t0 = performance.now();
  for (;;) {
    const st = shadower.stats();
    if (st.queueDepth === 0 && st.inFlight === 0) return performance.now() - t0;
    if (performance.now() - t0 > timeoutMs)
      throw new Error(`shadow queue not drained after ${timeoutMs} ms (${JSON.stringify(st)})`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

interface Cond {
  round: number;
  shadow: boolean;
  latencies: number[];
  p50: number;
  p99: number;
  loadMs: number;
  drainMs: number;
  windowRps: number;
  errors: number;
  sampled: number;
  completed: number;
  dropped: number;
  failed: number;
  maxQueue: number;
}

function summarizeShadow(conds: Cond[]) {
  const on = conds.filter((c) => c.shadow);
  const off = conds.filter((c) => !c.shadow);
  const all = (xs: Cond[]) => xs.flatMap((c) => c.latencies);
  const sum = (xs: Cond[], f: (c: Cond) => number) => xs.reduce((a, c) => a + f(c), 0);
  const rps = (xs: Cond[]) => sum(xs, (c) => c.latencies.length) / (sum(xs, (c) => c.loadMs + c.drainMs) / 1000);
  const pooled = {
    off: { p50: r3(p50(all(off))), p99: r3(p99(all(off))), rps: Math.round(rps(off)) },
    on: { p50: r3(p50(all(on))), p99: r3(p99(all(on))), rps: Math.round(rps(on)) },
  };
  const perRound = [...new Set(conds.map((c) => c.round))].map((round) => {
    const a = conds.find((c) => c.round === round && c.shadow)!;
    const b = conds.find((c) => c.round === round && !c.shadow)!;
    return { round, p50: r2(a.p50 / b.p50), p99: r2(a.p99 / b.p99), rps: r2(a.windowRps / b.windowRps) };
  });
  return {
    conditions: conds.map(({ latencies: _l, ...c }) => c),
    perRound,
    pooled,
    ratio: {
      p50: r2(pooled.on.p50 / pooled.off.p50),
      p99: r2(pooled.on.p99 / pooled.off.p99),
      rps: r2(pooled.on.rps / pooled.off.rps),
    },
    shadow: {
      sampled: sum(on, (c) => c.sampled),
      completed: sum(on, (c) => c.completed),
      dropped: sum(on, (c) => c.dropped),
      failed: sum(on, (c) => c.failed),
      maxQueue: Math.max(...on.map((c) => c.maxQueue)),
    },
  };
}

async function shadowSection(db: Db, queries: string[]) {
  await activate(db, P_KEY, {
    actor: 'bench',
    force: true,
    reason: 'benchmark: the primary serves during the shadow section',
  });
  const queueSize = flags['shadow-queue'] !== undefined ? intFlag(flags, 'shadow-queue', 1000) : undefined;
  const service = createService(db, {
    logger: silentLogger(),
    actor: 'bench',
    ...(queueSize !== undefined && { shadowQueueSize: queueSize }),
  });
  const shadower = service.shadower!;
  const { port } = await service.listen(0);
  const url = `http://127.0.0.1:${port}/v1/search`;
  const deps = { actor: 'bench' };
  await stopShadow(db, {}, deps);
  await shadower.refresh();
  await runLoad({ url, queries, clients: CLIENTS, requests: Math.max(50, WARMUP * 2), offset: 0 });

  // What one sampled query costs, serially: the primary's search vs what the
  // shadower adds (the candidate search, then the shadow_queries INSERT).
  const s = createSearcher(db, { watchActive: true });
  for (const q of queries.slice(0, WARMUP)) {
    await s.search({ query: q, k: K });
    await s.search({ query: q, k: K, version: C_KEY });
  }
  const pv = await requireVersion(db.kysely, P_KEY);
  const cv = await requireVersion(db.kysely, C_KEY);
  const cost = { primary: [] as number[], candidate: [] as number[], insert: [] as number[] };
  for (const q of queries.slice(0, Math.min(150, queries.length))) {
    const a = await s.search({ query: q, k: K });
    const b = await s.search({ query: q, k: K, version: C_KEY });
    cost.primary.push(a.ms);
    cost.candidate.push(b.ms);
    const t0 = performance.now();
    const pIds = a.hits.map((h) => h.chunkId);
    const cIds = b.hits.map((h) => h.chunkId);
    await insertShadowQuery(db.kysely, {
      query: q,
      storeText: false,
      segment: null,
      primaryVersionId: pv.id,
      candidateVersionId: cv.id,
      k: K,
      primaryIds: pIds,
      candidateIds: cIds,
      agreement: agreement(pIds, cIds, K),
      primaryMs: a.ms,
      candidateMs: b.ms,
    });
    cost.insert.push(performance.now() - t0);
  }
  await s.close();
  const serialCost = {
    primaryMean: r3(mean(cost.primary)),
    candidateMean: r3(mean(cost.candidate)),
    insertMean: r3(mean(cost.insert)),
    extraPerSampledQuery: r2((mean(cost.candidate) + mean(cost.insert)) / mean(cost.primary)),
  };

  let offset = 0;
  const runRounds = async (mode: 'closed' | 'open', requests: number, rate?: number): Promise<Cond[]> => {
    const conds: Cond[] = [];
    for (let round = 1; round <= ROUNDS; round++) {
      for (const on of round % 2 === 1 ? [false, true] : [true, false]) {
        if (on) await startShadow(db, { key: C_KEY, sampleRate: 1 }, deps);
        else await stopShadow(db, {}, deps);
        const cfg = await shadower.refresh();
        if (Boolean(cfg) !== on) throw new Error(`shadow configuration not ${on ? 'on' : 'off'} after refresh`);
        await waitDrained(shadower);
        const before = shadower.stats();
        let maxQueue = 0;
        const sampler = setInterval(() => {
          maxQueue = Math.max(maxQueue, shadower.stats().queueDepth);
        }, 10);
        // Both conditions of a round get the same queries (and arrival times).
        const load = await runLoad({
          url,
          queries,
          clients: CLIENTS,
          requests,
          offset,
          ...(rate && { rate, seed: round }),
        });
        // The window ends when the shadow work this load caused is done too.
        const drainMs = await waitDrained(shadower);
        clearInterval(sampler);
        const after = shadower.stats();
        if (Object.keys(load.versions).some((k) => k !== P_KEY))
          throw new Error(`a search was served by another version: ${JSON.stringify(load.versions)}`);
        if (load.errors) log(`WARNING: ${load.errors} failed requests`);
        const c: Cond = {
          round,
          shadow: on,
          latencies: load.latenciesMs,
          p50: r3(p50(load.latenciesMs)),
          p99: r3(p99(load.latenciesMs)),
          loadMs: Math.round(load.wallMs),
          drainMs: Math.round(drainMs),
          windowRps: Math.round(load.latenciesMs.length / ((load.wallMs + drainMs) / 1000)),
          errors: load.errors,
          sampled: 0,
          completed: after.completed - before.completed,
          dropped: after.dropped - before.dropped,
          failed: after.failed - before.failed,
          maxQueue,
        };
        c.sampled = c.completed + c.dropped + c.failed; // drained: every sampled query ended one of these ways
        conds.push(c);
        log(
          `shadow ${mode} round ${round} ${on ? 'on ' : 'off'}: p50 ${c.p50} ms, p99 ${c.p99} ms, ${c.windowRps} req/s over the window (load ${c.loadMs} ms + shadow drain ${c.drainMs} ms), completed ${c.completed}, dropped ${c.dropped}`,
        );
      }
      offset += requests;
    }
    return conds;
  };

  const closedConds = await runRounds('closed', REQUESTS);
  const closed = summarizeShadow(closedConds);
  let open: (ReturnType<typeof summarizeShadow> & { rate: number; load: number }) | undefined;
  if (OPEN_LOAD > 0) {
    const rate = Math.max(1, Math.round(closed.pooled.off.rps * OPEN_LOAD));
    open = { ...summarizeShadow(await runRounds('open', OPEN_REQUESTS, rate)), rate, load: OPEN_LOAD };
  }
  await stopShadow(db, {}, deps);
  await service.close();
  return {
    serialCost,
    clients: CLIENTS,
    requestsPerCondition: REQUESTS,
    openRequestsPerCondition: OPEN_REQUESTS,
    rounds: ROUNDS,
    shadowQueueSize: queueSize ?? 1000,
    closed,
    open,
  };
}

// ---------------------------------------------------------------- main

async function main(): Promise<void> {
  const scifact = await requireScifact();
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
    const setup = await prepare(db, scifact, ROWS, CHUNK, OVERLAP, [
      { key: P_KEY, encoder: PRIMARY },
      { key: C_KEY, encoder: CANDIDATE },
    ]);
    const partition = { primary: await partitionRows(db, P_KEY), candidate: await partitionRows(db, C_KEY) };
    const queries = loadQueries(scifact, NQ);
    log(`partition rows: primary ${partition.primary}, candidate ${partition.candidate}; ${queries.length} queries`);
    const versionOf = {
      primary: await requireVersion(db.kysely, P_KEY),
      candidate: await requireVersion(db.kysely, C_KEY),
    };
    const keyOf = { primary: P_KEY, candidate: C_KEY };

    const out: Record<string, any> = {
      benchmark: 'search',
      server,
      data: {
        rows: ROWS,
        chunkSize: CHUNK,
        chunkOverlap: OVERLAP,
        corpus: setup.plan as CorpusPlan | null,
        liveChunks: setup.liveChunks,
        partition,
        primary: PRIMARY,
        candidate: CANDIDATE,
        index: { kind: 'hnsw', m: 16, efConstruction: 64 },
      },
      setup: {
        ingestS: r2(setup.ingestS),
        backfillS: Object.fromEntries(Object.entries(setup.backfillS).map(([k, v]) => [k, r2(v)])),
      },
      queries: queries.length,
      latency: [] as unknown[],
    };
    // Exact truth for the versions that need it (untimed for the comparisons).
    const truthOf: Record<string, { truth: Truth[]; ms: number[] }> = {};
    const needTruth = new Set<'primary' | 'candidate'>();
    if (SECTIONS.has('recall')) needTruth.add('primary');
    if (SECTIONS.has('latency')) for (const w of LATENCY_ON) needTruth.add(w as 'primary' | 'candidate');
    for (const w of needTruth) {
      const v = versionOf[w];
      const n = Math.min(queries.length, w === 'primary' ? EXACT_Q : EXACT_Q_CANDIDATE);
      log(`exact top-${K} of ${n} queries on ${w} (${v.encoder_spec})`);
      const enc = await encoderForVersion(v, { logger: silentLogger() });
      const vecs = await Promise.all(
        queries.slice(0, n).map(async (q) => formatVectorText((await enc.embed([q]))[0]!)),
      );
      await enc.close?.();
      truthOf[w] = await exactTruth(url, v, vecs);
    }
    out.exact = Object.fromEntries(
      Object.entries(truthOf).map(([w, t]) => [w, { queries: t.truth.length, p50: r3(p50(t.ms)), p99: r3(p99(t.ms)) }]),
    );

    if (SECTIONS.has('latency')) {
      for (const w of LATENCY_ON) {
        log(`1/3 latency on ${w}: library vs bare query`);
        out.latency.push(await latencySection(db, url, keyOf[w], queries, truthOf[w]!.truth));
      }
    }
    if (SECTIONS.has('recall')) {
      log('2/3 recall@10 vs exact');
      out.recall = await recallSection(db, queries, truthOf.primary!.truth);
    }
    if (SECTIONS.has('shadow')) {
      log('3/3 primary latency with shadow 100% vs off (HTTP)');
      out.shadow = await shadowSection(db, queries);
    }
    await activate(db, P_KEY, { actor: 'bench', force: true, reason: 'benchmark: back to the primary' });

    const targets: Target[] = [];
    for (const L of out.latency) {
      targets.push(target(`search-${L.dims}d-p50`, L.ratios.libVsBare.p50, '<=', GOAL.p50));
      targets.push(target(`search-${L.dims}d-p99`, L.ratios.libVsBare.p99, '<=', GOAL.p99));
      targets.push(target(`serve-${L.dims}d-p50-over-library-ms`, L.ratios.httpMinusLib.p50, '<=', GOAL.httpOverLibMs));
    }
    if (out.recall)
      targets.push(
        target(`recall@10-${versionOf.primary.dimensions}d-default-ef`, out.recall.rows[0].recall, '>=', GOAL.recall),
      );
    for (const L of out.latency)
      if (!out.recall || L.dims !== versionOf.primary.dimensions)
        targets.push(target(`recall@10-${L.dims}d-default-ef`, L.recall.library, '>=', GOAL.recall));
    if (out.shadow?.open) targets.push(target('shadow-open-loop-p99', out.shadow.open.ratio.p99, '<=', GOAL.shadowP99));
    out.targets = targets;
    out.seconds = Math.round((performance.now() - started) / 100) / 10;
    out.loadavg = loadAverages();
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
  console.log(header('search — embctl vs the query a pgvector user writes by hand; recall@10; shadow', out.server));
  const corpus = d.corpus
    ? `${d.corpus.scifactDocs} SciFact docs → ${d.corpus.scifactChunks} chunks (≤${d.chunkSize} chars, overlap ${d.chunkOverlap}) + ${d.corpus.syntheticDocs} synthetic`
    : 'reused database';
  console.log(
    `data: ${corpus}; partitions: primary ${d.primary} ${d.partition.primary} rows, candidate ${d.candidate} ${d.partition.candidate} rows; HNSW m 16, ef_construction 64; ${out.queries} SciFact queries, k ${K}`,
  );
  if (out.setup.ingestS)
    console.log(
      `setup: ingest ${out.setup.ingestS} s, backfill + index ${Object.entries(out.setup.backfillS)
        .map(([k, v]) => `${k} ${v} s`)
        .join(', ')}`,
    );
  console.log(
    `exact top-${K} (index scans off): ${Object.entries(out.exact)
      .map(([w, e]: [string, any]) => `${w} ${e.queries} queries, p50 ${e.p50} ms, p99 ${e.p99} ms`)
      .join('; ')}`,
  );
  for (const [n, L] of out.latency.entries()) {
    console.log('');
    console.log(
      `1${String.fromCharCode(97 + n)}. latency on ${L.version} (${L.encoder}, ${L.dims}-d, made the active version), serial, ${PASSES} passes × ${out.queries} queries, three rotations per pass (library vs bare; library vs HTTP; diagnostics), methods in rotating order within each, ms (pooled over all queries)`,
    );
    console.log(`bare query (ef_search ${L.efSearch} set once per session): ${L.bareSql}`);
    console.log(`its plan: ${L.plan.slice(0, 2).join(' → ')}`);
    console.log(
      `the prepared statement's generic plan: ${L.genericPlan
        .filter((l: string) => /Limit|Scan/.test(l))
        .map((l: string) => l.replace(/\s*\(cost=.*$/, ''))
        .join(' → ')}`,
    );
    console.log(
      `one library search sends ${L.statements.length} statements: ${L.statements.map((x: string) => (x.length > 70 ? `${x.slice(0, 70)}…` : x)).join(' | ')}`,
    );
    console.log(
      table(
        ['measure', 'n', 'p50', 'p99', 'mean', 'what'],
        L.summary.map((x: any) => [x.name, x.n, x.p50, x.p99, x.mean, x.what]),
      ),
    );
    console.log(
      table(
        ['ratio', 'p50', 'p99', 'goal'],
        [
          ['library / bare', L.ratios.libVsBare.p50, L.ratios.libVsBare.p99, `p50 ≤ ${GOAL.p50}, p99 ≤ ${GOAL.p99}`],
          [
            'library default options / library (diagnostics rotation)',
            L.ratios.defaultVsLib.p50,
            L.ratios.defaultVsLib.p99,
            '—',
          ],
          [
            'library timings.searchMs / bare statement alone',
            L.ratios.searchMsVsBareAlone.p50,
            L.ratios.searchMsVsBareAlone.p99,
            '—',
          ],
          [
            'bare alone, iterative scan / bare alone',
            L.ratios.iterativeVsBareAlone.p50,
            L.ratios.iterativeVsBareAlone.p99,
            '—',
          ],
          [
            'POST /v1/search − library (HTTP rotation) (ms)',
            L.ratios.httpMinusLib.p50,
            L.ratios.httpMinusLib.p99,
            `p50 ≤ +${GOAL.httpOverLibMs} ms`,
          ],
          [
            'node:http + library − library (HTTP rotation) (ms)',
            L.ratios.floorMinusLib.p50,
            L.ratios.floorMinusLib.p99,
            '—',
          ],
          ['POST /v1/search − node:http + library (ms)', L.ratios.httpMinusFloor.p50, L.ratios.httpMinusFloor.p99, '—'],
          [
            "node's http.request client − the raw client (ms)",
            L.ratios.nodeClientMinusRaw.p50,
            L.ratios.nodeClientMinusRaw.p99,
            '—',
          ],
        ],
      ),
    );
    console.log(
      `recall@10 against exact (${L.recall.judged} queries, first pass): library ${L.recall.library}, bare ${L.recall.bare} (same ef_search ${L.efSearch})`,
    );
  }
  if (out.recall) {
    const R = out.recall;
    console.log('');
    console.log(`2. recall@10 of the library against exact, ${R.queries} queries on ${d.primary}`);
    console.log(
      table(
        [
          'ef_search',
          'recall@10',
          'with ties',
          'min',
          'all 10 found',
          'searchMs p50',
          'searchMs p99',
          'exact fallbacks',
        ],
        R.rows.map((r: any) => [r.efSearch, r.recall, r.recallTies, r.minRecall, r.perfect, r.p50, r.p99, r.fallbacks]),
      ),
    );
  }
  if (out.shadow) {
    const S = out.shadow;
    const C = S.serialCost;
    console.log('');
    console.log(
      `3. shadowing ${d.candidate} at 100% behind ${d.primary}: what one sampled query adds, serially (150 queries, ms): primary search ${C.primaryMean}; candidate search ${C.candidateMean} + shadow_queries INSERT ${C.insertMean} = ${C.extraPerSampledQuery}× the primary's own work, on the same CPUs`,
    );
    const show = (title: string, X: any) => {
      console.log('');
      console.log(title);
      console.log(
        table(
          [
            'round',
            'shadow',
            'p50',
            'p99',
            'load ms',
            'drain ms',
            'req/s (window)',
            'errors',
            'sampled',
            'completed',
            'dropped',
            'failed',
            'max queue',
          ],
          X.conditions.map((c: any) => [
            String(c.round),
            c.shadow ? 'on' : 'off',
            c.p50,
            c.p99,
            c.loadMs,
            c.drainMs,
            c.windowRps,
            c.errors,
            c.sampled,
            c.completed,
            c.dropped,
            c.failed,
            c.maxQueue,
          ]),
        ),
      );
      console.log(
        `pooled over the rounds: off p50 ${X.pooled.off.p50} / p99 ${X.pooled.off.p99} ms, ${X.pooled.off.rps} req/s; on p50 ${X.pooled.on.p50} / p99 ${X.pooled.on.p99} ms, ${X.pooled.on.rps} req/s (window includes the shadow drain)`,
      );
      console.log(
        `on/off: p50 ${X.ratio.p50}, p99 ${X.ratio.p99}, req/s ${X.ratio.rps}; per round p99 ${X.perRound.map((r: any) => r.p99).join(' / ')}`,
      );
      console.log(
        `sampled queries: ${X.shadow.sampled}, completed ${X.shadow.completed}, dropped ${X.shadow.dropped}, failed ${X.shadow.failed} (queue size ${S.shadowQueueSize}, deepest ${X.shadow.maxQueue})`,
      );
    };
    show(
      `3a. CLOSED loop (saturating): ${S.clients} clients back to back, ${S.requestsPerCondition} requests per condition, ${S.rounds} rounds ABBA, ms`,
      S.closed,
    );
    if (S.open)
      show(
        `3b. OPEN loop: Poisson arrivals at ${S.open.rate} req/s (${S.open.load} × the closed loop's req/s with shadow off), ${S.openRequestsPerCondition} requests per condition, ms`,
        S.open,
      );
  }
  console.log('');
  console.log(`total ${out.seconds} s`);
  console.log('');
  printTargets(out.targets);
}

main().catch((e) => {
  console.error(e);
  process.exitCode = 1;
});
