/**
 * Derived versions (issue 16) on BEIR SciFact with `hash:mixed-1536`, on a
 * PostgreSQL server: the parent (1536-d fp32, HNSW), and three versions
 * derived from it in the same run — 1536 halfvec, 512 truncated (with
 * `--force`: the hash encoder is NOT Matryoshka-trained, so truncation is
 * only a measurement here, not a recommendation), and bit + re-rank 100.
 *
 *   node --import tsx bench/derive.ts [--queries 300] [--rounds 3] [--synthetic 10000] [--url postgres://…]
 *
 * The same table is then measured on a synthetic Matryoshka-like set
 * (bench/derive-data.ts: dense 1536-d vectors whose leading dimensions
 * carry most of the variance, written straight into the parent's partition,
 * queries through the searcher's own SQL), where truncation and sign bits
 * keep information that the sparse hashed vectors do not have.
 *
 * Per version: stored bytes per vector (mean pg_column_size), ANN index MB,
 * build seconds (parent: backfill + index; derived: the derive, index
 * included), search latency p50/p99 (the SQL of one search, `searchMs`,
 * query embedding excluded since every version embeds the same way),
 * pooled over `rounds` rounds in which the versions take turns per query,
 * recall@10 against exact search on the parent, and nDCG@10 on the SciFact
 * test qrels (documents, first chunk counts; SciFact only). Targets (issue
 * 16), for each set (scifact, synthetic):
 *   TARGET derive-<set>-halfvec-recall@10: … (goal >= 0.99)
 *   TARGET derive-<set>-halfvec-index-ratio: … (goal <= 0.55)
 *   TARGET derive-<set>-bit-rerank-recall@10: … (goal >= 0.95)
 *   TARGET derive-<set>-bit-rerank-index-ratio: … (goal <= 0.1)
 *   TARGET derive-<set>-bit-rerank-p50-ratio: … (goal <= 1)
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openDatabase, type Db } from '../src/db/open.js';
import { migrate } from '../src/migrate/runner.js';
import { ingest } from '../src/ingest/index.js';
import { runBackfill } from '../src/backfill/index.js';
import { deriveVersion, storageFigures, type DeriveInput, type StorageFigures } from '../src/derive/index.js';
import { loadSynthetic, matryoshkaLike, searchVector } from './derive-data.js';
import { createSearcher } from '../src/search/index.js';
import { registerVersion } from '../src/versions/register.js';
import { requireVersion } from '../src/versions/store.js';
import { silentLogger } from '../src/log/logger.js';
import {
  header,
  intFlag,
  log,
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

const flags = parseFlags(process.argv.slice(2));
const NQ = intFlag(flags, 'queries', 300);
const SYNTH_N = intFlag(flags, 'synthetic', 10000);
const ROUNDS = intFlag(flags, 'rounds', 3);
const ENCODER = 'hash:mixed-1536';
const logger = silentLogger();

const DERIVED: { key: string; label: string; input: Omit<DeriveInput, 'key' | 'from'> }[] = [
  { key: 'half', label: '1536 halfvec', input: { storage: 'halfvec' } },
  { key: 'trunc512', label: '512 truncated (--force)', input: { dimensions: 512, force: true } },
  { key: 'bitrr', label: 'bit + re-rank 100', input: { storage: 'bit', rerank: 100 } },
];

function loadQueries(dir: string, n: number): { id: string; text: string; relevant: Set<string> }[] {
  const qrels = new Map<string, Set<string>>();
  for (const line of readFileSync(join(dir, 'qrels', 'test.tsv'), 'utf8')
    .split('\n')
    .slice(1)) {
    const [q, d, s] = line.trim().split('\t');
    if (!q || !d || Number(s) <= 0) continue;
    if (!qrels.has(q)) qrels.set(q, new Set());
    qrels.get(q)!.add(d);
  }
  return readFileSync(join(dir, 'queries.jsonl'), 'utf8')
    .split('\n')
    .filter((l) => l.trim())
    .map((l) => JSON.parse(l) as { _id: string; text: string })
    .filter((q) => qrels.has(String(q._id)))
    .slice(0, n)
    .map((q) => ({ id: String(q._id), text: q.text, relevant: qrels.get(String(q._id))! }));
}

/** nDCG@10 with binary gains over the first 10 distinct documents. */
function ndcg10(docs: string[], relevant: Set<string>): number {
  const seen: string[] = [];
  for (const d of docs) if (!seen.includes(d) && seen.push(d) >= 10) break;
  let dcg = 0;
  seen.forEach((d, i) => (dcg += relevant.has(d) ? 1 / Math.log2(i + 2) : 0));
  let ideal = 0;
  for (let i = 0; i < Math.min(10, relevant.size); i++) ideal += 1 / Math.log2(i + 2);
  return ideal ? dcg / ideal : 0;
}

interface Query {
  id: string;
  relevant?: Set<string>;
}
/** One search on version `key`: chunk ids, document ids and the SQL's milliseconds. */
type Runner = (
  key: string,
  q: Query,
  k: number,
  exact: boolean,
) => Promise<{ ids: number[]; docs: string[]; ms: number }>;

/** The sections' lines, printed after the header at the end (the header says how long the run took). */
const report: string[] = [];
const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / Math.max(1, xs.length);

async function deriveAll(db: Db, build: Record<string, number>, force: boolean): Promise<void> {
  for (const d of DERIVED) {
    const t = performance.now();
    const r = await deriveVersion(
      db,
      { key: d.key, from: 'parent', ...d.input, force: force && d.input.force },
      { actor: 'bench', logger },
    );
    build[d.key] = (performance.now() - t) / 1000;
    log(`${d.key}: ${r.vectors} vectors, ${r.state}, ${build[d.key]!.toFixed(1)} s`);
  }
}

/** Measure every version on the same queries, interleaved; print the table; return the targets. */
async function measure(
  db: Db,
  set: string,
  queries: Query[],
  run: Runner,
  build: Record<string, number>,
  truncLabel: string,
): Promise<Target[]> {
  const keys = ['parent', ...DERIVED.map((d) => d.key)];
  const figures = new Map<string, StorageFigures>();
  for (const k of keys) figures.set(k, (await storageFigures(db.kysely, await requireVersion(db.kysely, k)))!);
  const exact = new Map<string, Set<number>>();
  for (const q of queries) exact.set(q.id, new Set((await run('parent', q, 10, true)).ids));
  const lat = new Map<string, number[]>(keys.map((k) => [k, []]));
  const recall = new Map<string, number[]>(keys.map((k) => [k, []]));
  const ndcg = new Map<string, number[]>(keys.map((k) => [k, []]));
  for (let round = 0; round <= ROUNDS; round++) {
    for (const q of queries) {
      for (const k of round % 2 ? [...keys].reverse() : keys) {
        const r = await run(k, q, 30, false);
        if (round > 0) lat.get(k)!.push(r.ms);
        else {
          // the first round warms up and measures quality
          recall.get(k)!.push(r.ids.slice(0, 10).filter((c) => exact.get(q.id)!.has(c)).length / 10);
          if (q.relevant) ndcg.get(k)!.push(ndcg10(r.docs, q.relevant));
        }
      }
    }
  }
  const P = figures.get('parent')!;
  const label = (k: string) =>
    k === 'parent' ? 'parent 1536 fp32' : k === 'trunc512' ? truncLabel : DERIVED.find((d) => d.key === k)!.label;
  report.push(`\n## ${set}`);
  report.push(
    `# ${queries.length} queries, ${ROUNDS} timed rounds (versions interleaved per query, 30 fetched); ${P.vectors} vectors; recall@10 vs exact search on the parent`,
  );
  report.push(
    table(
      ['version', 'bytes/vector', 'index MB', 'index × parent', 'build s', 'p50 / p99 ms', 'recall@10', 'nDCG@10'],
      keys.map((k) => {
        const f = figures.get(k)!;
        return [
          label(k),
          f.bytesPerVector.toFixed(0),
          (f.indexBytes / 2 ** 20).toFixed(2),
          (f.indexBytes / P.indexBytes).toFixed(3),
          build[k]!.toFixed(1),
          `${p50(lat.get(k)!).toFixed(2)} / ${p99(lat.get(k)!).toFixed(2)}`,
          mean(recall.get(k)!).toFixed(3),
          ndcg.get(k)!.length ? mean(ndcg.get(k)!).toFixed(3) : 'n/a',
        ];
      }),
    ),
  );
  const r10 = (k: string) => mean(recall.get(k)!);
  report.push(
    `# the parent's own HNSW recall@10 is ${r10('parent').toFixed(3)}; relative to it: ${DERIVED.map((d) => `${d.key} ${(r10(d.key) / r10('parent')).toFixed(3)}`).join(', ')}`,
  );
  const idx = (k: string) => figures.get(k)!.indexBytes / P.indexBytes;
  const name = set.startsWith('SciFact') ? 'scifact' : 'synthetic';
  return [
    target(`derive-${name}-halfvec-recall@10`, r10('half'), '>=', 0.99),
    target(`derive-${name}-halfvec-index-ratio`, idx('half'), '<=', 0.55),
    target(`derive-${name}-bit-rerank-recall@10`, r10('bitrr'), '>=', 0.95),
    target(`derive-${name}-bit-rerank-index-ratio`, idx('bitrr'), '<=', 0.1),
    target(`derive-${name}-bit-rerank-p50-ratio`, p50(lat.get('bitrr')!) / p50(lat.get('parent')!), '<=', 1),
  ];
}

async function withScratch<T>(admin: string, tag: string, fn: (db: Db) => Promise<T>): Promise<T> {
  const scratch = await scratchDatabase(admin, tag);
  const home = mkdtempSync(join(tmpdir(), 'embctl-bench-derive-'));
  const db = await openDatabase({ databaseUrl: scratch.url, homeDir: home, logger });
  try {
    await migrate(db, { logger });
    return await fn(db);
  } finally {
    await db.close();
    await scratch.drop();
    rmSync(home, { recursive: true, force: true });
  }
}

async function scifactSet(admin: string, dir: string): Promise<Target[]> {
  return withScratch(admin, 'derive_scifact', async (db) => {
    let t = performance.now();
    await ingest(db, [join(dir, 'corpus.jsonl')], { format: 'beir' }, { logger });
    log(`SciFact: ingest ${((performance.now() - t) / 1000).toFixed(1)} s`);
    t = performance.now();
    await registerVersion(db, { key: 'parent', encoder: ENCODER, canary: false }, { actor: 'bench', logger });
    await runBackfill(db, 'parent', { workers: 2 }, { actor: 'bench', logger });
    const build: Record<string, number> = { parent: (performance.now() - t) / 1000 };
    log(`SciFact: parent backfill + index ${build.parent!.toFixed(1)} s`);
    await deriveAll(db, build, true);
    const queries = loadQueries(dir, NQ);
    const byId = new Map(queries.map((q) => [q.id, q.text]));
    const searcher = createSearcher(db, { logger });
    try {
      return await measure(
        db,
        `SciFact, ${ENCODER} (not Matryoshka-trained: the 512 row is derived with --force)`,
        queries,
        async (key, q, k, exact) => {
          const r = await searcher.search({ query: byId.get(q.id)!, version: key, k, exact });
          return { ids: r.hits.map((h) => h.chunkId), docs: r.hits.map((h) => h.documentId), ms: r.timings.searchMs };
        },
        build,
        '512 truncated (--force)',
      );
    } finally {
      await searcher.close();
    }
  });
}

async function syntheticSet(admin: string): Promise<Target[]> {
  return withScratch(admin, 'derive_synth', async (db) => {
    const set = matryoshkaLike(SYNTH_N, 1536, NQ);
    const t = performance.now();
    await loadSynthetic(db, 'parent', set);
    await db.kysely
      .updateTable('embedding_versions')
      .set({ matryoshka: true })
      .where('version_key', '=', 'parent')
      .execute();
    const build: Record<string, number> = { parent: (performance.now() - t) / 1000 };
    log(`synthetic: ${SYNTH_N} vectors loaded and indexed in ${build.parent!.toFixed(1)} s`);
    await deriveAll(db, build, false);
    const queries = set.queries.map((_, i) => ({ id: String(i) }));
    return measure(
      db,
      `synthetic Matryoshka-like set, ${SYNTH_N} × 1536 (variance of dimension j ∝ 1/(j+1), 200 clusters)`,
      queries,
      async (key, q, k, exact) => {
        const r = await searchVector(db, key, set.queries[Number(q.id)]!, k, exact);
        return { ids: r.ids, docs: [], ms: r.ms };
      },
      build,
      '512 truncated',
    );
  });
}

async function main(): Promise<void> {
  const dir = await requireScifact();
  const admin = serverUrl(flags);
  const server = await serverVersions(admin);
  const targets = [...(await scifactSet(admin, dir)), ...(await syntheticSet(admin))];
  console.log(header('derived versions: SciFact (hash:mixed-1536) and a synthetic Matryoshka-like set', server));
  console.log(report.join('\n'));
  printTargets(targets);
}

await main();
