/**
 * Score a run against qrels exactly as trec_eval (usnistgov/trec_eval,
 * commit f4253652) does: its evaluation loop (trec_eval.c) and averaging
 * (meas_avg.c), with -q, -c, -l, -J and -M. Works on in-memory maps, so
 * embctl's own search results can be scored without files.
 */
import { InputError } from '../errors.js';
import { resolveMeasures, type ResolveOptions } from './measure-plan.js';
import type { MeasureEnv, MeasureInstance } from './measure-types.js';
import { compareCodePoints, trecOrder, validateRun } from './ranking.js';
import { formResRels, queryJudgments } from './res-rels.js';
import type {
  EvaluateOptions,
  EvaluationResult,
  MeasureColumn,
  MeasureValues,
  Qrels,
  Run,
  ScoredDoc,
} from './types.js';

export { resolveMeasures };

/** trec_eval.h MIN_GEO_MEAN: the floor of a value before its logarithm in gm_map and gm_bpref. */
export const MIN_GEO_MEAN = 0.00001;

const COUNTS = resolveMeasures({ measures: ['num_ret', 'num_rel', 'num_rel_ret'] });

/** What trec_eval -c scores a qrels query the run lacks as (trec_eval.c's "bogus" ranking). */
const MISSING_QUERY: readonly ScoredDoc[] = [{ docno: 'ceci_nest_pas_un_docno', score: 1 }];

/**
 * trec_eval semantics:
 * - results ordered by score descending, ties by docno in reverse string order; input order ignored;
 * - queries in the run but not in the qrels are ignored;
 * - qrels queries absent from the run (or with no results) are left out, or with `completeQueries` (-c)
 *   scored as trec_eval scores them: as a ranking of one unjudged document, then num_ret, utility,
 *   relstring, unj_* and rbp_resid set back to 0 (or '');
 * - binary measures count a document relevant when its grade >= relevanceLevel (-l, default 1);
 *   negative grades mean "pooled, not judged"; nDCG's gains are the grades;
 * - `judgedOnly` (-J) removes unjudged results before anything is computed; `maxRetrieved` (-M) keeps the first N.
 * num_ret, num_rel and num_rel_ret are always in the values; `measures` and `columns` hold what was asked for.
 */
export function evaluateRun(qrels: Qrels, run: Run, options: EvaluateOptions = {}): EvaluationResult {
  const relevanceLevel = options.relevanceLevel ?? 1;
  if (!Number.isSafeInteger(relevanceLevel) || relevanceLevel < 0) {
    throw new InputError(`Relevance level must be an integer >= 0, not ${relevanceLevel}`);
  }
  const maxRetrieved = options.maxRetrieved ?? Infinity;
  if (maxRetrieved !== Infinity && (!Number.isSafeInteger(maxRetrieved) || maxRetrieved < 1)) {
    throw new InputError(`The most results per query (-M) must be a whole number >= 1, not ${maxRetrieved}`);
  }
  validateRun(run);
  checkGrades(qrels);
  const plan = resolveMeasures(options as ResolveOptions);
  // The counts are always in the values (not in `measures` or the printed columns unless asked for).
  const computed = [...plan, ...COUNTS.filter((c) => !plan.some((i) => i.family === c.family))];
  const qids = [...qrels.keys()]
    .filter((qid) => options.completeQueries || (run.get(qid)?.length ?? 0) > 0)
    .sort(compareCodePoints);

  const env: MeasureEnv = { relevanceLevel, numDocsInColl: 0 };
  const form = { relevanceLevel, judgedOnly: options.judgedOnly ?? false, maxRetrieved };
  const perQuery = new Map<string, MeasureValues>();
  const text = new Map<string, Record<string, string>>();
  for (const qid of qids) {
    const docs = run.get(qid) ?? [];
    const missing = docs.length === 0;
    const rr = formResRels(missing ? MISSING_QUERY : trecOrder(docs), queryJudgments(qrels.get(qid)!), form);
    const values: MeasureValues = {};
    const texts: Record<string, string> = {};
    for (const inst of computed) {
      const numbers = inst.family.compute?.(rr, env, inst);
      if (numbers)
        inst.names.forEach((name, i) => {
          values[name] = numbers[i]!;
        });
      const strings = inst.family.computeText?.(rr, env, inst);
      if (strings)
        inst.names.forEach((name, i) => {
          texts[name] = strings[i]!;
        });
    }
    if (missing) resetMissing(values, texts);
    perQuery.set(qid, values);
    if (Object.keys(texts).length) text.set(qid, texts);
  }
  const all = aggregate(perQuery, computed);
  if (options.completeQueries) all.num_rel = positiveJudgments(qrels);
  return {
    perQuery,
    all,
    numQueries: qids.length,
    text,
    measures: plan.filter((i) => i.family.compute).flatMap((i) => i.names),
    columns: columnsOf(plan),
  };
}

/** The largest grade: trec_eval (and this port) keep a count per grade from 0 up, so huge grades cost memory and time. */
export const MAX_GRADE = 1_000_000;

function checkGrades(qrels: Qrels): void {
  const bad: string[] = [];
  for (const [qid, grades] of qrels) {
    for (const [docno, g] of grades)
      if (!Number.isSafeInteger(g) || g > MAX_GRADE) bad.push(`query "${qid}", document "${docno}": grade ${g}`);
  }
  if (bad.length)
    throw new InputError(`Grades must be whole numbers up to ${MAX_GRADE}: ${bad.length} are not`, bad.slice(0, 20));
}

/** trec_eval.c's clean-up after scoring a missing query (matched by exact name, `unj` by prefix). */
function resetMissing(values: MeasureValues, texts: Record<string, string>): void {
  for (const name of Object.keys(values)) {
    if (name === 'num_ret' || name === 'utility' || name === 'rbp_resid' || name.startsWith('unj')) values[name] = 0;
  }
  if ('relstring' in texts) texts.relstring = '';
}

/** With -c trec_eval's num_rel total counts every judgment with a grade > 0 (whatever -l is). */
function positiveJudgments(qrels: Qrels): number {
  let n = 0;
  for (const grades of qrels.values()) for (const g of grades.values()) if (g > 0) n++;
  return n;
}

/**
 * trec_eval's `all` line over these queries: means, sums for the counts, and
 * for gm_map and gm_bpref exp(mean(log(max(value, MIN_GEO_MEAN)))). 0 when there are no queries.
 */
export function aggregate(
  perQuery: ReadonlyMap<string, MeasureValues>,
  plan: readonly MeasureInstance[],
): MeasureValues {
  const all: MeasureValues = {};
  const n = perQuery.size;
  for (const inst of plan) {
    if (!inst.family.compute) continue;
    const kind = inst.family.summary;
    for (const name of inst.names) {
      let sum = 0;
      for (const values of perQuery.values()) {
        const v = values[name] ?? 0;
        sum += kind === 'geometric' ? Math.log(Math.max(v, MIN_GEO_MEAN)) : v;
      }
      all[name] = n === 0 || kind === 'sum' ? sum : kind === 'geometric' ? Math.exp(sum / n) : sum / n;
    }
  }
  return all;
}

function columnsOf(plan: readonly MeasureInstance[]): MeasureColumn[] {
  return plan.flatMap((inst) => {
    const f = inst.family;
    const summary = f.value === 'runid' || f.name === 'num_q' || f.summary !== 'none';
    return inst.names.map((name) => ({ name, value: f.value, perQuery: f.perQuery, summary }));
  });
}
