/**
 * TREC text out: embctl's own results as a run file (for cross-checking
 * with trec_eval or ranx), and trec_eval-style `measure  qid  value` lines.
 */
import {
  compareCodePoints,
  formatTrecValue,
  trecOrder,
  type EvaluationResult,
  type MeasureColumn,
  type Run,
} from '../trec/index.js';

/** `qid Q0 docno rank score run_id`, queries in id order, results in trec_eval order. */
export function formatTrecRun(run: Run, runId: string): string {
  const tag = runId.replace(/\s+/g, '_');
  const lines: string[] = [];
  for (const qid of [...run.keys()].sort(compareCodePoints)) {
    trecOrder(run.get(qid)!).forEach((d, i) =>
      lines.push(`${qid} Q0 ${d.docno} ${i + 1} ${formatScore(d.score)} ${tag}`),
    );
  }
  return lines.length ? lines.join('\n') + '\n' : '';
}

/** Full precision, so a re-read run orders exactly as this one. */
function formatScore(x: number): string {
  return Number.isInteger(x) ? x.toFixed(1) : String(x);
}

/** `%-22s\t%s\t<value>`: trec_eval's line. */
function line(measure: string, qid: string, value: string): string {
  return `${measure.padEnd(22)}\t${qid}\t${value}`;
}

/** `%ld` of a C long cast (truncation) for counts, `%6.4f` otherwise. */
function numberText(column: MeasureColumn, value: number): string {
  return column.value === 'long' ? String(Math.trunc(value)) : formatTrecValue(value);
}

export interface TrecEvalFormat {
  /** The run's id (trec_eval prints the run_id of the run file's last line). */
  runId?: string;
  /** -q: every query before the summary. */
  perQuery?: boolean;
  /** -n: no summary. */
  noSummary?: boolean;
}

/**
 * trec_eval's output, byte for byte: per query with `perQuery` (in qid
 * order, each measure in trec_eval's order; relstring quoted), then the
 * `all` lines (runid, num_q, the averages) unless `noSummary`.
 */
export function formatTrecEval(result: EvaluationResult, options: TrecEvalFormat = {}): string {
  const out: string[] = [];
  if (options.perQuery) {
    for (const [qid, values] of result.perQuery) {
      for (const c of result.columns) {
        if (!c.perQuery) continue;
        if (c.value === 'text') out.push(line(c.name, qid, `'${result.text.get(qid)?.[c.name] ?? ''}'`));
        else if (values[c.name] !== undefined) out.push(line(c.name, qid, numberText(c, values[c.name]!)));
      }
    }
  }
  if (!options.noSummary) {
    for (const c of result.columns) {
      if (!c.summary) continue;
      if (c.value === 'runid') out.push(line('runid', 'all', options.runId ?? 'embctl'));
      else if (c.name === 'num_q') out.push(line('num_q', 'all', String(result.numQueries)));
      else out.push(line(c.name, 'all', numberText(c, result.all[c.name] ?? 0)));
    }
  }
  return out.length ? out.join('\n') + '\n' : '';
}
