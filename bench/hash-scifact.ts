/**
 * nDCG@10 and throughput of every `hash:<variant>` encoder on BEIR SciFact
 * (test split, 300 queries): exact cosine top-10 in memory.
 *
 *   node --import tsx bench/hash-scifact.ts [dataDir] [variant ...]
 *
 * dataDir defaults to EMBCTL_SCIFACT_DIR (read in place; BEIR SciFact is
 * CC BY-NC and never in the repo); without it the benchmark stops, exit 2. Target: nDCG@10 of
 * mixed-1536 ≥ 0.55. About a minute.
 *
 * Its output ends with one line per target (bench/lib.ts printTargets):
 *   TARGET hash-scifact-ndcg@10-mixed-1536: <nDCG@10> (goal >= 0.55) OK|MISS
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { HASH_VARIANTS, createHashEncoder, type HashEncoder } from '../src/encoders/hash/index.js';
import { header, printTargets, requireScifact, target } from './lib.js';

const GOAL = { variant: 'mixed-1536', ndcg: 0.55 };

interface Dataset {
  docIds: string[];
  docTexts: string[];
  queryIds: string[];
  queryTexts: string[];
  /** query id -> relevant doc ids */
  qrels: Map<string, Set<string>>;
}

function readJsonl(path: string): Array<Record<string, unknown>> {
  return readFileSync(path, 'utf8')
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => JSON.parse(line) as Record<string, unknown>);
}

function joinTitle(row: Record<string, unknown>): string {
  const title = typeof row.title === 'string' ? row.title : '';
  const text = typeof row.text === 'string' ? row.text : '';
  return title ? `${title}. ${text}` : text;
}

export function loadScifact(dir: string): Dataset {
  const qrels = new Map<string, Set<string>>();
  const lines = readFileSync(join(dir, 'qrels', 'test.tsv'), 'utf8')
    .split('\n')
    .slice(1);
  for (const line of lines) {
    const [qid, did, score] = line.trim().split('\t');
    if (!qid || !did || Number(score) <= 0) continue;
    let set = qrels.get(qid);
    if (!set) qrels.set(qid, (set = new Set()));
    set.add(did);
  }
  const corpus = readJsonl(join(dir, 'corpus.jsonl'));
  const queries = readJsonl(join(dir, 'queries.jsonl')).filter((q) => qrels.has(String(q._id)));
  return {
    docIds: corpus.map((d) => String(d._id)),
    docTexts: corpus.map(joinTitle),
    queryIds: queries.map((q) => String(q._id)),
    queryTexts: queries.map(joinTitle),
    qrels,
  };
}

/** Embed in batches the encoder accepts; vectors packed row-major in one Float32Array. */
export async function embedAll(encoder: HashEncoder, texts: string[]): Promise<Float32Array> {
  const dims = encoder.dimensions;
  const out = new Float32Array(texts.length * dims);
  for (let start = 0; start < texts.length; start += encoder.maxBatchItems) {
    const vectors = await encoder.embed(texts.slice(start, start + encoder.maxBatchItems));
    vectors.forEach((v, i) => out.set(v, (start + i) * dims));
  }
  return out;
}

/** Mean nDCG@k with binary gains over the dataset's queries, exact inner-product search. */
export function ndcgAtK(data: Dataset, docs: Float32Array, queries: Float32Array, dims: number, k = 10): number {
  const nDocs = data.docIds.length;
  const scores = new Float64Array(nDocs);
  let total = 0;
  for (let q = 0; q < data.queryIds.length; q++) {
    const qo = q * dims;
    for (let d = 0; d < nDocs; d++) {
      const dOff = d * dims;
      let s = 0;
      for (let j = 0; j < dims; j++) s += queries[qo + j]! * docs[dOff + j]!;
      scores[d] = s;
    }
    const top = topK(scores, k);
    const relevant = data.qrels.get(data.queryIds[q]!)!;
    let dcg = 0;
    top.forEach((d, rank) => {
      if (relevant.has(data.docIds[d]!)) dcg += 1 / Math.log2(rank + 2);
    });
    let idcg = 0;
    for (let rank = 0; rank < Math.min(k, relevant.size); rank++) idcg += 1 / Math.log2(rank + 2);
    total += dcg / idcg;
  }
  return total / data.queryIds.length;
}

/** Indexes of the k highest scores, best first (ties: lower index first). */
function topK(scores: Float64Array, k: number): number[] {
  const best: number[] = [];
  for (let i = 0; i < scores.length; i++) {
    const s = scores[i]!;
    if (best.length === k && s <= scores[best[k - 1]!]!) continue;
    let pos = best.length === k ? k - 1 : best.length;
    while (pos > 0 && scores[best[pos - 1]!]! < s) pos--;
    best.splice(pos, 0, i);
    if (best.length > k) best.pop();
  }
  return best;
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const dir =
    args[0] && existsSync(args[0]) && statSync(args[0]).isDirectory() ? args.shift()! : await requireScifact();
  const names = args.length > 0 ? args : HASH_VARIANTS.map((v) => v.name);
  const data = loadScifact(dir);
  const lines: string[] = [];
  const scores = new Map<string, number>();
  lines.push(
    `SciFact: ${data.docTexts.length} docs, ${data.queryTexts.length} test queries; exact cosine top-10 in memory`,
  );
  lines.push('variant         dims  nDCG@10  docs/s (cold)  docs/s (warm)');
  for (const name of names) {
    const encoder = createHashEncoder(name);
    const t0 = performance.now();
    const docs = await embedAll(encoder, data.docTexts);
    const cold = performance.now() - t0;
    const t1 = performance.now();
    await embedAll(encoder, data.docTexts);
    const warm = performance.now() - t1;
    const queries = await embedAll(encoder, data.queryTexts);
    const ndcg = ndcgAtK(data, docs, queries, encoder.dimensions);
    const rate = (ms: number): string => String(Math.round(data.docTexts.length / (ms / 1000))).padStart(13);
    scores.set(encoder.variant.name, ndcg);
    lines.push(
      `${encoder.variant.name.padEnd(14)} ${String(encoder.dimensions).padStart(5)}  ${ndcg.toFixed(4)}  ${rate(cold)}  ${rate(warm)}`,
    );
    process.stderr.write(`[bench] ${name}: nDCG@10 ${ndcg.toFixed(4)}\n`);
  }
  lines.push('cold = first pass (fills the per-token memo); warm = second pass over the same texts.');
  console.log(header('hash encoders on BEIR SciFact (test split): nDCG@10'));
  console.log(lines.join('\n'));
  console.log('');
  const goal = scores.get(GOAL.variant);
  if (goal === undefined) console.log(`no target: ${GOAL.variant} was not run`);
  else printTargets([target(`hash-scifact-ndcg@10-${GOAL.variant}`, goal, '>=', GOAL.ndcg)]);
}

if (import.meta.url === `file://${process.argv[1]}`) await main();
