// How far a cross-encoder agrees with the demo's judged set: every query of
// evals/demo.judged.jsonl is scored against every document of
// examples/demo/corpus.jsonl (passage = `title\n\ntext`, as ingest makes a
// chunk), then
//   - ROC AUC per query, judged (grade >= 1) against non-judged documents,
//     averaged over queries, and pooled over all (judged, non-judged) pairs
//     of the same query (the share ranked right, ties half);
//   - the same against 10 random non-judged documents per judged pair
//     (seeded), and against non-judged documents of the query's own segment;
//   - the share of (grade 2, grade 1) pairs of a query ranked right;
//   - the spread of scores per grade (0 = non-judged): quantiles, to pick
//     the judge's thresholds by eye until `judge calibrate` does it;
//   - nDCG@10 of reranking the whole corpus by the score (compare with the
//     lexical baselines of `node examples/demo/check.mjs`);
//   - time per pair.
//
//   node --import tsx scripts/cross-encoder-agreement.ts [model folder] [--batch 32]
//
// Default folder: test/fixtures/tiny-cross-encoder. Offline only: scores come
// from the `cross-encoder:` judge's scorer (loadCrossEncoder).
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadCrossEncoder } from '../src/judges/index.js';
import { TINY_CROSS_ENCODER } from '../test/support/cross-encoder.js';

const root = fileURLToPath(new URL('..', import.meta.url));
const args = process.argv.slice(2);
const flag = (name: string, fallback: number): number => {
  const i = args.indexOf(name);
  return i >= 0 ? Number(args[i + 1]) : fallback;
};
const batch = flag('--batch', 32);
const folder = args[0] && !args[0].startsWith('--') ? resolve(args[0]) : TINY_CROSS_ENCODER;

interface Doc {
  id: string;
  title?: string;
  text: string;
  metadata?: { segment?: string };
}
interface Query {
  id: string;
  query: string;
  segment: string;
  relevant: Record<string, number>;
}

const readJsonl = <T>(path: string): T[] =>
  readFileSync(path, 'utf8')
    .split('\n')
    .filter((l) => l.trim())
    .map((l) => JSON.parse(l) as T);
const docs = readJsonl<Doc>(`${root}/examples/demo/corpus.jsonl`);
const queries = readJsonl<Query & { embctl_judged_set?: number }>(`${root}/evals/demo.judged.jsonl`).filter(
  (q) => q.embctl_judged_set === undefined,
);
const passage = (d: Doc) => (d.title ? `${d.title}\n\n${d.text}` : d.text);

const scorer = await loadCrossEncoder(folder, { batchPairs: batch });

// Warm-up (first run), not timed.
await scorer.score([{ query: queries[0]!.query, passage: passage(docs[0]!) }]);

const scores = new Map<string, Float64Array>(); // query id -> score per doc index
let pairs = 0;
const t0 = performance.now();
for (const q of queries) {
  const row = new Float64Array(docs.length);
  for (let start = 0; start < docs.length; start += batch) {
    const slice = docs.slice(start, start + batch);
    const out = await scorer.score(slice.map((d) => ({ query: q.query, passage: passage(d) })));
    out.forEach((s, i) => (row[start + i] = s));
    pairs += slice.length;
  }
  scores.set(q.id, row);
}
const ms = performance.now() - t0;
await scorer.close();

const wins = (pos: number, neg: number) => (pos > neg ? 1 : pos === neg ? 0.5 : 0);

// A seeded PRNG (mulberry32) for the sampled negatives.
let seed = 20240611;
const rand = () => {
  seed = (seed + 0x6d2b79f5) | 0;
  let t = seed;
  t = Math.imul(t ^ (t >>> 15), t | 1);
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
};

let aucSum = 0;
let pooledWin = 0;
let pooledN = 0;
let sampledWin = 0;
let sampledN = 0;
let segWin = 0;
let segN = 0;
let gradeWin = 0;
let gradeN = 0;
let ndcgSum = 0;
const byGrade = new Map<number, number[]>(); // grade (0 = non-judged) -> scores
for (const q of queries) {
  const row = scores.get(q.id)!;
  const judged = docs.map((d, i) => ({ i, grade: q.relevant[d.id] ?? 0, seg: d.metadata?.segment }));
  for (const d of judged) {
    if (!byGrade.has(d.grade)) byGrade.set(d.grade, []);
    byGrade.get(d.grade)!.push(row[d.i]!);
  }
  const pos = judged.filter((d) => d.grade > 0);
  const neg = judged.filter((d) => d.grade === 0);
  let w = 0;
  for (const p of pos) for (const n of neg) w += wins(row[p.i]!, row[n.i]!);
  aucSum += w / (pos.length * neg.length);
  pooledWin += w;
  pooledN += pos.length * neg.length;
  for (const p of pos) {
    for (let k = 0; k < 10; k++) {
      const n = neg[Math.floor(rand() * neg.length)]!;
      sampledWin += wins(row[p.i]!, row[n.i]!);
      sampledN++;
    }
    for (const n of neg) {
      if (n.seg !== q.segment) continue;
      segWin += wins(row[p.i]!, row[n.i]!);
      segN++;
    }
    for (const o of pos) {
      if (p.grade === 2 && o.grade === 1) {
        gradeWin += wins(row[p.i]!, row[o.i]!);
        gradeN++;
      }
    }
  }
  // nDCG@10 with gain 2^grade - 1, ties broken by document order.
  const ranked = judged.map((d) => ({ ...d, s: row[d.i]! })).sort((a, b) => b.s - a.s || a.i - b.i);
  const dcg = ranked.slice(0, 10).reduce((s, d, r) => s + (2 ** d.grade - 1) / Math.log2(r + 2), 0);
  const ideal = pos
    .map((d) => d.grade)
    .sort((a, b) => b - a)
    .slice(0, 10)
    .reduce((s, g, r) => s + (2 ** g - 1) / Math.log2(r + 2), 0);
  ndcgSum += dcg / ideal;
}

const f = (x: number) => x.toFixed(4);
console.log(`model ${folder}`);
console.log(`queries ${queries.length}, documents ${docs.length}, pairs scored ${pairs}, batch ${batch}`);
console.log(`ROC AUC, judged vs non-judged, mean over queries   ${f(aucSum / queries.length)}`);
console.log(`  pooled over all (judged, non-judged) pairs         ${f(pooledWin / pooledN)}  (${pooledN} pairs)`);
console.log(`  vs 10 random non-judged documents per judged pair  ${f(sampledWin / sampledN)}  (${sampledN} pairs)`);
console.log(`  vs non-judged documents of the query's segment     ${f(segWin / segN)}  (${segN} pairs)`);
console.log(`grade 2 above grade 1 (same query)                   ${f(gradeWin / gradeN)}  (${gradeN} pairs)`);
console.log(`nDCG@10 reranking the whole corpus                   ${f(ndcgSum / queries.length)}`);
const quantile = (xs: number[], q: number) => xs[Math.min(xs.length - 1, Math.floor(q * xs.length))]!;
console.log('score by grade (0 = non-judged)                      p10 / p50 / p90, n');
for (const [grade, xs] of [...byGrade].sort((a, b) => a[0] - b[0])) {
  xs.sort((a, b) => a - b);
  const qs = [0.1, 0.5, 0.9].map((q) => quantile(xs, q).toFixed(2)).join(' / ');
  console.log(`  grade ${grade}                                            ${qs}, ${xs.length}`);
}
console.log(`time ${(ms / 1000).toFixed(1)} s: ${((ms / pairs) * 1000).toFixed(0)} us per pair`);
