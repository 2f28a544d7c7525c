/**
 * Pooled judgments in an evaluation: which judges' labels count (`--judges`
 * or the gates file's `judges`), the judged set with their labels added,
 * and the coverage they buy — Judged@K before and after, per version and per
 * segment, and which share of each version's top K each label source gave.
 */
import type { Kysely } from 'kysely';
import type { DB } from '../db/index.js';
import { InputError } from '../errors.js';
import type { JudgedSet } from '../judged-set/index.js';
import {
  HUMAN_SOURCE,
  SET_SOURCE,
  addJudgments,
  gradedJudgments,
  judgeCounts,
  latestCalibration,
  querySha256,
  type LabelSource,
} from '../judgments/index.js';
import type { Run } from '../trec/index.js';
import { NO_SEGMENT, OVERALL } from './types.js';

/** `--judges judged-set`: the set's own labels only. */
export const ONLY_SET = SET_SOURCE;

export interface LabelChoice {
  /** Judge ids in order of preference; undefined: every judge. Empty: none (the set's labels only). */
  judges: string[] | undefined;
}

/**
 * Resolve `--judges` entries against the judges that have judgments: an
 * entry matches a judge id exactly, the id up to its `@revision`, or the
 * spec it was run with. `human` and `judged-set` are always known.
 */
export async function resolveJudges(db: Kysely<DB>, entries: readonly string[] | undefined): Promise<LabelChoice> {
  if (entries === undefined) return { judges: undefined };
  const stored = await judgeCounts(db);
  const out: string[] = [];
  const unknown: string[] = [];
  for (const e of rejoinIds(entries, new Set(stored.map((j) => j.judge)))) {
    if (e === ONLY_SET) continue;
    if (e === HUMAN_SOURCE) {
      out.push(HUMAN_SOURCE);
      continue;
    }
    const hits = stored.filter((j) => j.judge === e || j.judge.startsWith(`${e}@`) || j.spec === e).map((j) => j.judge);
    if (hits.length === 0) unknown.push(e);
    for (const h of hits) if (!out.includes(h)) out.push(h);
  }
  if (unknown.length)
    throw new InputError(
      `no judgments from ${unknown.map((u) => JSON.stringify(u)).join(', ')}: judge first (embctl judge --judge ${unknown[0]} ...), or name one of: ${[SET_SOURCE, HUMAN_SOURCE, ...stored.map((j) => j.judge)].join(', ')}`,
    );
  return { judges: out };
}

/**
 * A cross-encoder's id holds its thresholds (`.../t=-3,0,3`), so a
 * comma-separated `--judges` list cuts it apart: put back together the
 * consecutive entries that form a stored judge id.
 */
function rejoinIds(entries: readonly string[], ids: ReadonlySet<string>): string[] {
  const out: string[] = [];
  for (let i = 0; i < entries.length; i++) {
    let taken = 1;
    for (let j = i + 2; j <= entries.length && !ids.has(entries[i]!); j++)
      if (ids.has(entries.slice(i, j).join(','))) {
        taken = j - i;
        break;
      }
    out.push(entries.slice(i, i + taken).join(','));
    i += taken - 1;
  }
  return out;
}

export interface Labelled {
  set: JudgedSet;
  sources: Map<string, Map<string, LabelSource>>;
  /** Labels each source gave to the set's queries. */
  counts: Record<LabelSource, number>;
}

/** The judged set with the chosen judges' labels added (the set itself when none apply). */
export async function labelledSet(db: Kysely<DB>, set: JudgedSet, choice: LabelChoice): Promise<Labelled> {
  const rows =
    choice.judges && choice.judges.length === 0
      ? []
      : await gradedJudgments(
          db,
          set.keyKind,
          set.queries.map((q) => querySha256(q.text)),
          choice.judges,
        );
  const r = addJudgments(set, rows, choice.judges);
  return { set: r.set, sources: r.sources, counts: r.counts };
}

/** Judged@K of one version before and after pooled labels, overall and per segment. */
export interface Coverage {
  k: number;
  before: number;
  after: number;
  segments: Array<{ segment: string; before: number; after: number }>;
  /** Share of the top K (over all queries) by label source; `unjudged` for the rest. */
  sources: Record<string, number>;
}

export const UNJUDGED = 'unjudged';

export function coverageOf(run: Run, original: JudgedSet, labelled: Labelled, k: number): Coverage {
  const segOf = new Map(original.queries.map((q) => [q.id, q.segment ?? NO_SEGMENT]));
  const origRel = new Map(original.queries.map((q) => [q.id, q.relevant]));
  const perSeg = new Map<string, { before: number; after: number; n: number }>();
  const tally: Record<string, number> = {};
  let slots = 0;
  let before = 0;
  let after = 0;
  for (const q of original.queries) {
    const top = (run.get(q.id) ?? []).slice(0, k);
    let b = 0;
    let a = 0;
    for (const d of top) {
      if (origRel.get(q.id)?.has(d.docno)) b++;
      const src = labelled.sources.get(q.id)?.get(d.docno);
      if (src !== undefined) a++;
      tally[src ?? UNJUDGED] = (tally[src ?? UNJUDGED] ?? 0) + 1;
      slots++;
    }
    // trec_eval's judged_K divides by K, whatever the run returned.
    const qb = b / k;
    const qa = a / k;
    before += qb;
    after += qa;
    const seg = segOf.get(q.id)!;
    const s = perSeg.get(seg) ?? { before: 0, after: 0, n: 0 };
    s.before += qb;
    s.after += qa;
    s.n++;
    perSeg.set(seg, s);
  }
  const n = original.queries.length || 1;
  return {
    k,
    before: before / n,
    after: after / n,
    segments: [...perSeg]
      .sort((x, y) => (x[0] < y[0] ? -1 : x[0] > y[0] ? 1 : 0))
      .map(([segment, s]) => ({ segment, before: s.before / s.n, after: s.after / s.n })),
    sources: Object.fromEntries(Object.entries(tally).map(([s, c]) => [s, slots ? c / slots : 0])),
  };
}

/** Judges (not the set, not people) whose labels reached a top K. */
export function judgesUsed(coverages: readonly Coverage[]): string[] {
  const out = new Set<string>();
  for (const c of coverages)
    for (const [s, share] of Object.entries(c.sources))
      if (share > 0 && s !== SET_SOURCE && s !== HUMAN_SOURCE && s !== UNJUDGED) out.add(s);
  return [...out].sort();
}

/** The latest kappa of each judge (null: never calibrated). */
export async function judgeKappas(db: Kysely<DB>, judges: readonly string[]): Promise<Record<string, number | null>> {
  const out: Record<string, number | null> = {};
  for (const j of judges) out[j] = (await latestCalibration(db, j))?.kappa ?? null;
  return out;
}

export { OVERALL };
