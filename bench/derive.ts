/**
 * Derived versions (issue 16) on BEIR SciFact with `hash:mixed-1536`, on a
 * PostgreSQL server: the parent (1536-d fp32, HNSW), and three versions
 * derived from it in the same run — 1536 halfvec, 512 truncated (with
 * `--force`: the hash encoder is NOT Matryoshka-trained, so truncation is
 * only a measurement here, not a recommendation), and bit + re-rank 100.
 *
 *   node --import tsx bench/derive.ts [--queries 300] [--rounds 3] [--url postgres://…]
 *
 * Per version: stored bytes per vector (mean pg_column_size), ANN index MB,
 * build seconds (parent: backfill + index; derived: the derive, index
 * included), search latency p50/p99 (the SQL of one search, `searchMs`,
 * query embedding excluded since every version embeds the same way),
 * pooled over `rounds` rounds in which the versions take turns per query,
 * recall@10 against exact search on the parent, and nDCG@10 on the SciFact
 * test qrels (documents, first chunk counts). Targets (issue 16):
 *   TARGET derive-halfvec-recall@10: … (goal >= 0.99)
 *   TARGET derive-halfvec-index-ratio: … (goal <= 0.55)
 *   TARGET derive-bit-rerank-recall@10: … (goal >= 0.95)
 *   TARGET derive-bit-rerank-index-ratio: … (goal <= 0.1)
 *   TARGET derive-bit-rerank-p50-ratio: … (goal <= 1)
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openDatabase, type Db } from '../src/db/open.js';
import { migrate } from '../src/migrate/runner.js';
import { ingest } from '../src/ingest/index.js';
import { runBackfill } from '../src/backfill/index.js';
import { deriveVersion, storageFigures, type DeriveInput } from '../src/derive/index.js';
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
} from './lib.js';

const flags = parseFlags(process.argv.slice(2));
const NQ = intFlag(flags, 'queries', 300);
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

async function main(): Promise<void> {
  const scifact = await requireScifact();
  const admin = serverUrl(flags);
  const server = await serverVersions(admin);
  const scratch = await scratchDatabase(admin, 'derive');
  const home = mkdtempSync(join(tmpdir(), 'embctl-bench-derive-'));
  let db: Db | undefined;
  try {
    db = await openDatabase({ databaseUrl: scratch.url, homeDir: home, logger });
    await migrate(db, { logger });
    let t = performance.now();
    await ingest(db, [scifact], { format: 'beir' }, { logger });
    log(`ingest ${((performance.now() - t) / 1000).toFixed(1)} s`);
    t = performance.now();
    await registerVersion(db, { key: 'parent', encoder: ENCODER, canary: false }, { actor: 'bench', logger });
    await runBackfill(db, 'parent', { workers: 2 }, { actor: 'bench', logger });
    const build: Record<string, number> = { parent: (performance.now() - t) / 1000 };
    log(`parent backfill + index ${build.parent!.toFixed(1)} s`);
    for (const d of DERIVED) {
      t = performance.now();
      const r = await deriveVersion(db, { key: d.key, from: 'parent', ...d.input }, { actor: 'bench', logger });
      build[d.key] = (performance.now() - t) / 1000;
      log(`${d.key}: ${r.vectors} vectors, ${r.state}, ${build[d.key]!.toFixed(1)} s`);
    }
    const keys = ['parent', ...DERIVED.map((d) => d.key)];
    const figures = new Map<string, Awaited<ReturnType<typeof storageFigures>>>();
    for (const k of keys) figures.set(k, await storageFigures(db.kysely, await requireVersion(db.kysely, k)));

    const queries = loadQueries(scifact, NQ);
    const searcher = createSearcher(db, { logger });
    const exact = new Map<string, Set<number>>();
    for (const q of queries) {
      const r = await searcher.search({ query: q.text, version: 'parent', k: 10, exact: true });
      exact.set(q.id, new Set(r.hits.map((h) => h.chunkId)));
    }
    const lat = new Map<string, number[]>(keys.map((k) => [k, []]));
    const recall = new Map<string, number[]>(keys.map((k) => [k, []]));
    const ndcg = new Map<string, number[]>(keys.map((k) => [k, []]));
    for (let round = 0; round <= ROUNDS; round++) {
      for (const q of queries) {
        for (const k of round % 2 ? [...keys].reverse() : keys) {
          const r = await searcher.search({ query: q.text, version: k, k: 30 });
          if (round === 0) {
            // warm-up round: quality only
            const top = r.hits.slice(0, 10).map((h) => h.chunkId);
            recall.get(k)!.push(top.filter((c) => exact.get(q.id)!.has(c)).length / 10);
            ndcg.get(k)!.push(
              ndcg10(
                r.hits.map((h) => h.documentId),
                q.relevant,
              ),
            );
          } else lat.get(k)!.push(r.timings.searchMs);
        }
      }
      if (round === 0) log('warm-up and quality round done');
    }
    await searcher.close();

    const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / Math.max(1, xs.length);
    const P = figures.get('parent')!;
    const rows = keys.map((k) => {
      const f = figures.get(k)!;
      return [
        k === 'parent' ? 'parent 1536 fp32' : DERIVED.find((d) => d.key === k)!.label,
        f.bytesPerVector.toFixed(0),
        (f.indexBytes / 2 ** 20).toFixed(2),
        (f.indexBytes / P.indexBytes).toFixed(3),
        build[k]!.toFixed(1),
        `${p50(lat.get(k)!).toFixed(2)} / ${p99(lat.get(k)!).toFixed(2)}`,
        mean(recall.get(k)!).toFixed(3),
        mean(ndcg.get(k)!).toFixed(3),
      ];
    });
    console.log(header('derived versions on SciFact (hash:mixed-1536)', server));
    console.log(
      `# ${queries.length} queries, ${ROUNDS} timed rounds (versions interleaved per query), k=30 fetched; recall@10 vs exact search on the parent; ${P.vectors} chunks`,
    );
    console.log(
      table(
        ['version', 'bytes/vector', 'index MB', 'index × parent', 'build s', 'p50 / p99 ms', 'recall@10', 'nDCG@10'],
        rows,
      ),
    );
    const idx = (k: string) => figures.get(k)!.indexBytes / P.indexBytes;
    printTargets([
      target('derive-halfvec-recall@10', mean(recall.get('half')!), '>=', 0.99),
      target('derive-halfvec-index-ratio', idx('half'), '<=', 0.55),
      target('derive-bit-rerank-recall@10', mean(recall.get('bitrr')!), '>=', 0.95),
      target('derive-bit-rerank-index-ratio', idx('bitrr'), '<=', 0.1),
      target('derive-bit-rerank-p50-ratio', p50(lat.get('bitrr')!) / p50(lat.get('parent')!), '<=', 1),
    ]);
  } finally {
    await db?.close();
    await scratch.drop();
    rmSync(home, { recursive: true, force: true });
  }
}

await main();
