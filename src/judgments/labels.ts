/**
 * The labels an evaluation scores with: the judged set's own, then human
 * labels imported into the database, then the judges' grades, for each
 * (query, key). The result is a judged set like any other, so every measure
 * (and trec_eval's -J, bpref, infAP) sees judged results as judged; each
 * label remembers its source, so reports can say where a version's top K
 * got its labels from.
 */
import { makeJudgedSet, type JudgedQuery, type JudgedSet } from '../judged-set/index.js';
import { querySha256 } from './query-hash.js';
import type { JudgmentRow } from './store.js';

/** The judged set's own labels. */
export const SET_SOURCE = 'judged-set';
/** Labels people gave (imported files, spreadsheet exports): the judge `human`. */
export const HUMAN_SOURCE = 'human';

/** Where one label came from: the set, `human`, or a judge's identity id. */
export type LabelSource = string;

export interface LabelledSet {
  /** The judged set with the pooled labels added. */
  set: JudgedSet;
  /** qid -> key -> source of its label. */
  sources: Map<string, Map<string, LabelSource>>;
  /** How many labels each source gave (after priority). */
  counts: Record<LabelSource, number>;
}

/**
 * Add stored judgments to a judged set. `judges` (identity ids, in order of
 * preference) limits which judges count; undefined accepts every judge, and
 * among several the latest judgment wins. Human labels rank above every
 * judge, and the set's own labels above everything.
 */
export function addJudgments(set: JudgedSet, rows: readonly JudgmentRow[], judges?: readonly string[]): LabelledSet {
  const rank = (judge: string): number => {
    if (judge === HUMAN_SOURCE) return -1;
    if (!judges) return 0;
    const i = judges.indexOf(judge);
    return i < 0 ? Infinity : i;
  };
  // Best row per (sha, key): lowest rank, then latest id.
  const best = new Map<string, Map<string, JudgmentRow>>();
  for (const r of rows) {
    if (r.grade === null || rank(r.judge) === Infinity) continue;
    let byKey = best.get(r.query_sha256);
    if (!byKey) best.set(r.query_sha256, (byKey = new Map()));
    const prev = byKey.get(r.doc_key);
    if (!prev || rank(r.judge) < rank(prev.judge) || (rank(r.judge) === rank(prev.judge) && r.id > prev.id))
      byKey.set(r.doc_key, r);
  }
  const sources = new Map<string, Map<string, LabelSource>>();
  const counts: Record<LabelSource, number> = {};
  const count = (s: LabelSource) => (counts[s] = (counts[s] ?? 0) + 1);
  const queries: JudgedQuery[] = set.queries.map((q) => {
    const src = new Map<string, LabelSource>();
    for (const k of q.relevant.keys()) {
      src.set(k, SET_SOURCE);
      count(SET_SOURCE);
    }
    const relevant = new Map(q.relevant);
    for (const [key, r] of best.get(querySha256(q.text)) ?? []) {
      if (relevant.has(key)) continue;
      relevant.set(key, r.grade!);
      src.set(key, r.judge);
      count(r.judge);
    }
    sources.set(q.id, src);
    return { ...q, relevant };
  });
  const labelled = makeJudgedSet({
    name: set.name,
    description: set.description,
    keyKind: set.keyKind,
    queries,
    source: set.source,
  });
  return { set: labelled, sources, counts };
}
