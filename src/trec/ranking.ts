/**
 * How trec_eval orders a query's results: score descending, ties broken by
 * docno in *reverse* string order (strcmp on the bytes, i.e. UTF-8 / code
 * point order). Any rank given with the results is ignored.
 */
import { InputError } from '../errors.js';
import type { Run, ScoredDoc } from './types.js';

/** Compare two strings the way C's strcmp compares their UTF-8 bytes. */
export function compareCodePoints(a: string, b: string): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const x = a.charCodeAt(i);
    const y = b.charCodeAt(i);
    if (x === y) continue;
    // UTF-16 order equals code point order except for surrogates vs U+E000..U+FFFF.
    const xs = x >= 0xd800 && x <= 0xdfff;
    const ys = y >= 0xd800 && y <= 0xdfff;
    if (xs === ys) return x - y;
    return xs ? 1 : -1;
  }
  return a.length - b.length;
}

function byTrecOrder(p: ScoredDoc, q: ScoredDoc): number {
  if (p.score !== q.score) return p.score > q.score ? -1 : 1;
  return compareCodePoints(q.docno, p.docno);
}

/** A new array of the docs in trec_eval's evaluation order. */
export function trecOrder(docs: readonly ScoredDoc[]): ScoredDoc[] {
  return [...docs].sort(byTrecOrder);
}

/**
 * Check an in-memory run the way the file parser does: finite scores and no
 * document twice for one query. Throws InputError listing every problem.
 */
export function validateRun(run: Run): void {
  const details: string[] = [];
  for (const [qid, docs] of run) {
    const seen = new Set<string>();
    for (const d of docs) {
      if (typeof d.score !== 'number' || !Number.isFinite(d.score)) {
        details.push(`query "${qid}", document "${d.docno}": score ${String(d.score)} is not a finite number`);
      }
      if (seen.has(d.docno)) details.push(`query "${qid}": document "${d.docno}" retrieved twice`);
      seen.add(d.docno);
    }
    if (details.length > 200) break;
  }
  if (details.length) throw new InputError(`The run is not valid: ${details.length} problem(s)`, details);
}
