/**
 * A judged set from a BEIR folder: `queries.jsonl` (`_id`, `text`) and
 * `qrels/<split>.tsv` with the header `query-id corpus-id score`. Only
 * queries that have qrels are kept. Keys are corpus ids (document_id).
 */
import { basename, join } from 'node:path';
import { makeJudgedSet, type JudgedSet, type JudgedSetOptions } from './judged-set.js';
import { joinQueries } from './trec.js';
import { ProblemList, at, splitLines } from '../util/index.js';
import { collectQueries } from './queries-file.js';
import { readText } from '../util/index.js';
import type { Qrels } from '../trec/index.js';

export interface BeirOptions extends JudgedSetOptions {
  /** Which qrels file: `qrels/<split>.tsv`. Default `test`. */
  split?: string;
}

const INTEGER = /^[+-]?\d+$/;

/** Parse BEIR qrels TSV (with its header) into qrels, adding every bad line to `problems`. */
export function collectBeirQrels(
  text: string,
  source: string,
  problems: ProblemList,
): { qrels: Qrels; firstLine: Map<string, number> } {
  const qrels: Qrels = new Map();
  const firstLine = new Map<string, number>();
  const lines = splitLines(text);
  let sawHeader = false;
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    if (line.trim() === '') continue;
    const where = at(source, i + 1);
    const f = line.split('\t').map((s) => s.trim());
    if (!sawHeader) {
      sawHeader = true;
      if (f.join(' ') !== 'query-id corpus-id score') {
        problems.add(where, `expected the header "query-id<TAB>corpus-id<TAB>score", found "${line.trim()}"`);
      }
      continue;
    }
    if (f.length !== 3 || !f[0] || !f[1]) {
      problems.add(where, `expected "query-id<TAB>corpus-id<TAB>score", found ${f.length} field(s)`);
      continue;
    }
    const [qid, docId, score] = f as [string, string, string];
    if (!INTEGER.test(score)) {
      problems.add(where, `score "${score}" is not an integer`);
      continue;
    }
    let docs = qrels.get(qid);
    if (!docs) {
      qrels.set(qid, (docs = new Map()));
      firstLine.set(qid, i + 1);
    }
    if (docs.has(docId)) {
      problems.add(where, `duplicate judgment for query "${qid}", document "${docId}"`);
      continue;
    }
    docs.set(docId, Number.parseInt(score, 10));
  }
  if (!sawHeader) problems.add(source, 'the qrels file is empty');
  else if (qrels.size === 0 && problems.size === 0) problems.add(source, 'no judgments');
  return { qrels, firstLine };
}

/** Load a BEIR folder. Throws InputError listing every problem of both files. */
export async function readBeirJudgedSet(dir: string, options: BeirOptions = {}): Promise<JudgedSet> {
  const split = options.split ?? 'test';
  const queriesPath = join(dir, 'queries.jsonl');
  const qrelsPath = join(dir, 'qrels', `${split}.tsv`);
  const [queriesText, qrelsText] = await Promise.all([readText(queriesPath), readText(qrelsPath)]);
  const problems = new ProblemList();
  const queries = collectQueries(queriesText, queriesPath, problems);
  const { qrels, firstLine } = collectBeirQrels(qrelsText, qrelsPath, problems);
  const judged = joinQueries(qrels, queries, (qid) => at(qrelsPath, firstLine.get(qid) ?? 0), problems);
  problems.throwIfAny(`Invalid BEIR judged set ${dir}`);
  return makeJudgedSet({
    name: options.name ?? `${basename(dir.replace(/[/\\]+$/, ''))}/${split}`,
    description: null,
    keyKind: options.keyKind ?? 'document_id',
    queries: judged,
    source: dir,
  });
}
