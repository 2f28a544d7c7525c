/**
 * Readers for the two TREC text formats:
 *   qrels  `qid iter docno rel`                 (whitespace separated)
 *   run    `qid iter docno rank score run_id`   (fields after run_id are ignored, as trec_eval does)
 * Blank lines and lines starting with `#` are skipped. Every malformed line is
 * reported with its line number, all at once, in one InputError.
 */
import { readText } from '../util/index.js';
import { ProblemList, at, splitLines } from '../util/index.js';
import type { Qrels, Run } from './types.js';

export interface ParseOptions {
  /** Name used in messages, e.g. the file path. */
  source?: string;
}

const INTEGER = /^[+-]?\d+$/;
const WS = /\s+/;

function fieldsOf(line: string): string[] | null {
  const t = line.trim();
  if (t === '' || t.startsWith('#')) return null;
  return t.split(WS);
}

/** Qrels plus the line where each query first appears (for messages about a query). */
export interface QrelsWithLines {
  qrels: Qrels;
  firstLine: Map<string, number>;
}

/** Parse qrels text, adding every bad line to `problems` instead of throwing. */
export function collectQrels(text: string, source: string | undefined, problems: ProblemList): QrelsWithLines {
  const qrels: Qrels = new Map();
  const firstLine = new Map<string, number>();
  const lines = splitLines(text);
  for (let i = 0; i < lines.length; i++) {
    const f = fieldsOf(lines[i]!);
    if (!f) continue;
    const where = at(source, i + 1);
    if (f.length !== 4) {
      problems.add(where, `expected 4 fields "qid iter docno rel", found ${f.length}`);
      continue;
    }
    const [qid, , docno, relText] = f as [string, string, string, string];
    if (!INTEGER.test(relText)) {
      problems.add(where, `relevance "${relText}" is not an integer`);
      continue;
    }
    let docs = qrels.get(qid);
    if (!docs) {
      qrels.set(qid, (docs = new Map()));
      firstLine.set(qid, i + 1);
    }
    if (docs.has(docno)) {
      problems.add(where, `duplicate judgment for query "${qid}", document "${docno}"`);
      continue;
    }
    docs.set(docno, Number.parseInt(relText, 10));
  }
  return { qrels, firstLine };
}

/** Parse qrels text. Throws InputError listing every bad line. */
export function parseQrels(text: string, options: ParseOptions = {}): Qrels {
  const problems = new ProblemList();
  const { qrels } = collectQrels(text, options.source, problems);
  problems.throwIfAny(`Cannot read qrels${options.source ? ` ${options.source}` : ''}`);
  return qrels;
}

/** Parse a TREC run. Throws InputError listing every bad line. */
export function parseRun(text: string, options: ParseOptions = {}): Run {
  const problems = new ProblemList();
  const run: Run = new Map();
  const seen = new Map<string, Set<string>>();
  const lines = splitLines(text);
  for (let i = 0; i < lines.length; i++) {
    const f = fieldsOf(lines[i]!);
    if (!f) continue;
    const where = at(options.source, i + 1);
    if (f.length < 6) {
      problems.add(where, `expected 6 fields "qid iter docno rank score run_id", found ${f.length}`);
      continue;
    }
    const [qid, , docno, , scoreText] = f as [string, string, string, string, string];
    const score = Number(scoreText);
    if (scoreText === '' || !Number.isFinite(score)) {
      problems.add(where, `score "${scoreText}" is not a finite number`);
      continue;
    }
    let docs = seen.get(qid);
    if (!docs) {
      seen.set(qid, (docs = new Set()));
      run.set(qid, []);
    }
    if (docs.has(docno)) {
      problems.add(where, `document "${docno}" retrieved twice for query "${qid}"`);
      continue;
    }
    docs.add(docno);
    run.get(qid)!.push({ docno, score });
  }
  problems.throwIfAny(`Cannot read run${options.source ? ` ${options.source}` : ''}`);
  return run;
}

export async function readQrelsFile(path: string): Promise<Qrels> {
  return parseQrels(await readText(path), { source: path });
}

export async function readRunFile(path: string): Promise<Run> {
  return parseRun(await readText(path), { source: path });
}
