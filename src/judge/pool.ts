/**
 * The pool, as TREC builds one: for each query, the union of the top
 * `depth` results of the candidate and of the baseline, at the judged set's
 * key (a document or a chunk). Pairs that already have a label — in the
 * judged set, from people (judge `human`), or from this very judge — are
 * left out: nothing is judged, or paid for, twice.
 */
import type { Kysely } from 'kysely';
import type { DB } from '../db/index.js';
import { searchQuery, type Retriever } from '../evaluate/index.js';
import type { KeyKind } from '../judged-set/index.js';
import { HUMAN_SOURCE, pairKey, querySha256, storedPairs } from '../judgments/index.js';
import type { VersionRow } from '../versions/index.js';

/** A query to pool: its text, and the keys its source already labels. */
export interface PoolQuery {
  id: string;
  text: string;
  segment: string | null;
  /** Keys labelled by the query's source (the judged set); never judged. */
  labelled: ReadonlySet<string>;
}

export interface PoolPair {
  queryId: string;
  queryText: string;
  querySha256: string;
  key: string;
  /** 1-based ranks in each version's top `depth`; null when absent. */
  candidateRank: number | null;
  baselineRank: number | null;
}

export interface Pool {
  keyKind: KeyKind;
  depth: number;
  queries: number;
  /** Distinct (query, key) pairs in the union of the top `depth` lists. */
  pooled: number;
  /** Already labelled by the set or by people. */
  labelled: number;
  /** Already judged by this judge (graded). */
  judged: number;
  /** Stored as failed by this judge (judged again only with retryFailed). */
  failed: number;
  /** What is left to judge, in query order, then by best rank. */
  pairs: PoolPair[];
  /** Failed pairs left out (to show, or to judge again). */
  failedPairs: PoolPair[];
}

export interface BuildPoolOptions {
  queries: readonly PoolQuery[];
  keyKind: KeyKind;
  candidate: VersionRow;
  /** Null: pool the candidate alone. */
  baseline: VersionRow | null;
  retriever: Retriever;
  depth: number;
  /** The judge's identity id: its stored pairs are left out. */
  judge: string;
  retryFailed?: boolean;
  onQuery?: (done: number, total: number) => void;
}

export async function buildPool(db: Kysely<DB>, o: BuildPoolOptions): Promise<Pool> {
  const shas = o.queries.map((q) => querySha256(q.text));
  const [mine, human] = await Promise.all([
    storedPairs(db, o.judge, o.keyKind, shas),
    o.judge === HUMAN_SOURCE
      ? Promise.resolve(new Map<string, boolean>())
      : storedPairs(db, HUMAN_SOURCE, o.keyKind, shas),
  ]);
  const pool: Pool = {
    keyKind: o.keyKind,
    depth: o.depth,
    queries: o.queries.length,
    pooled: 0,
    labelled: 0,
    judged: 0,
    failed: 0,
    pairs: [],
    failedPairs: [],
  };
  let done = 0;
  for (const [i, q] of o.queries.entries()) {
    const sha = shas[i]!;
    const ranks = new Map<string, { c: number | null; b: number | null }>();
    const top = async (v: VersionRow) => (await searchQuery(o.retriever, v, q.text, o.keyKind, o.depth)).ranked;
    (await top(o.candidate)).forEach((d, r) => ranks.set(d.docno, { c: r + 1, b: null }));
    if (o.baseline && o.baseline.id !== o.candidate.id) {
      (await top(o.baseline)).forEach((d, r) => {
        const have = ranks.get(d.docno);
        if (have) have.b = r + 1;
        else ranks.set(d.docno, { c: null, b: r + 1 });
      });
    }
    const pairs: PoolPair[] = [];
    for (const [key, r] of ranks) {
      pool.pooled++;
      const pk = pairKey(sha, key);
      const human = humanLabelled(pk);
      if (q.labelled.has(key) || human) {
        pool.labelled++;
        continue;
      }
      const pair = { queryId: q.id, queryText: q.text, querySha256: sha, key, candidateRank: r.c, baselineRank: r.b };
      const failed = mine.get(pk);
      if (failed === false) pool.judged++;
      else if (failed === true) {
        pool.failed++;
        if (o.retryFailed) pairs.push(pair);
        else pool.failedPairs.push(pair);
      } else pairs.push(pair);
    }
    pairs.sort((a, b) => bestRank(a) - bestRank(b));
    pool.pairs.push(...pairs);
    o.onQuery?.(++done, o.queries.length);
  }
  return pool;

  function humanLabelled(pk: string): boolean {
    return human.get(pk) === false;
  }
}

function bestRank(p: PoolPair): number {
  return Math.min(p.candidateRank ?? Infinity, p.baselineRank ?? Infinity);
}
