/**
 * TREC text out: embctl's own results as a run file (for cross-checking
 * with trec_eval or ranx), and trec_eval-style `measure  qid  value` lines.
 */
import { compareCodePoints, trecOrder, type EvaluationResult, type Run } from '../eval/index.js';

/** `qid Q0 docno rank score run_id`, queries in id order, results in trec_eval order. */
export function formatTrecRun(run: Run, runId: string): string {
  const tag = runId.replace(/\s+/g, '_');
  const lines: string[] = [];
  for (const qid of [...run.keys()].sort(compareCodePoints)) {
    trecOrder(run.get(qid)!).forEach((d, i) => lines.push(`${qid} Q0 ${d.docno} ${i + 1} ${formatScore(d.score)} ${tag}`));
  }
  return lines.length ? lines.join('\n') + '\n' : '';
}

/** Full precision, so a re-read run orders exactly as this one. */
function formatScore(x: number): string {
  return Number.isInteger(x) ? x.toFixed(1) : String(x);
}

const COUNTS = new Set(['num_q', 'num_ret', 'num_rel', 'num_rel_ret']);

function line(measure: string, qid: string, value: number): string {
  return `${measure.padEnd(22)}\t${qid}\t${COUNTS.has(measure) ? String(Math.round(value)) : value.toFixed(4)}`;
}

/** trec_eval's output: per query (with `perQuery`) then `all`, with runid and num_q first. */
export function formatTrecEval(result: EvaluationResult, options: { runId?: string; perQuery?: boolean } = {}): string {
  const out: string[] = [];
  if (options.perQuery) {
    for (const [qid, values] of result.perQuery) {
      for (const m of result.measures) if (values[m] !== undefined) out.push(line(m, qid, values[m]!));
    }
  }
  out.push(`${'runid'.padEnd(22)}\tall\t${options.runId ?? 'embctl'}`);
  out.push(line('num_q', 'all', result.numQueries));
  for (const m of result.measures) out.push(line(m, 'all', result.all[m] ?? 0));
  return out.join('\n') + '\n';
}
