/**
 * A judged set from TREC qrels plus a queries file (TSV or JSONL). Only
 * queries that have qrels are kept; a qrels query with no text is a problem.
 */
import { basename, extname } from 'node:path';
import { makeJudgedSet, type JudgedQuery, type JudgedSet, type JudgedSetOptions } from './judged-set.js';
import { ProblemList, at } from '../util/index.js';
import { collectQueries, type QueryText } from './queries-file.js';
import { compareCodePoints } from '../trec/index.js';
import { readText } from '../util/index.js';
import { collectQrels } from '../trec/index.js';
import type { Qrels } from '../trec/index.js';

export interface TrecJudgedSetInput {
  qrelsText: string;
  qrelsSource: string;
  queriesText: string;
  queriesSource: string;
}

/** Build a judged set from qrels and query texts already in memory. Throws InputError listing every problem. */
export function parseTrecJudgedSet(input: TrecJudgedSetInput, options: JudgedSetOptions = {}): JudgedSet {
  const problems = new ProblemList();
  const queries = collectQueries(input.queriesText, input.queriesSource, problems);
  const { qrels, firstLine } = collectQrels(input.qrelsText, input.qrelsSource, problems);
  const judged = joinQueries(qrels, queries, (qid) => at(input.qrelsSource, firstLine.get(qid) ?? 0), problems);
  if (qrels.size === 0 && problems.size === 0) problems.add(input.qrelsSource, 'no judgments');
  problems.throwIfAny(`Invalid judged set ${input.qrelsSource}`);
  return makeJudgedSet({
    name: options.name ?? basename(input.qrelsSource, extname(input.qrelsSource)),
    description: null,
    keyKind: options.keyKind ?? 'document_id',
    queries: judged,
    source: input.qrelsSource,
  });
}

/** Keep the queries that have qrels, in id order; report qrels whose query has no text. */
export function joinQueries(
  qrels: Qrels,
  queries: Map<string, QueryText>,
  whereQrels: (qid: string) => string,
  problems: ProblemList,
): JudgedQuery[] {
  const out: JudgedQuery[] = [];
  for (const qid of [...qrels.keys()].sort(compareCodePoints)) {
    const q = queries.get(qid);
    if (!q) {
      problems.add(whereQrels(qid), `qrels for unknown query "${qid}" (not in the queries file)`);
      continue;
    }
    out.push({ id: qid, text: q.text, segment: null, relevant: qrels.get(qid)! });
  }
  return out;
}

export async function readTrecJudgedSet(
  qrelsPath: string,
  queriesPath: string,
  options: JudgedSetOptions = {},
): Promise<JudgedSet> {
  const [qrelsText, queriesText] = await Promise.all([readText(qrelsPath), readText(queriesPath)]);
  return parseTrecJudgedSet({ qrelsText, qrelsSource: qrelsPath, queriesText, queriesSource: queriesPath }, options);
}
