import type { EvaluationOutcome } from '../evaluate/index.js';

/** Judged@K before and after pooled judgments, and where the top K's labels came from. */
export function coverageLines(r: EvaluationOutcome): string[] {
  const l = r.labels;
  if (!l) return [];
  const pooled = Object.keys(l.counts).some((s) => s !== 'judged-set');
  const lines: string[] = [];
  const versions = [
    [r.candidate.version?.key ?? 'candidate', l.coverage.candidate],
    ...(l.coverage.baseline ? [[r.baseline?.version?.key ?? 'baseline', l.coverage.baseline] as const] : []),
  ] as const;
  for (const [key, c] of versions) {
    const shares = Object.entries(c.sources)
      .sort((a, b) => b[1] - a[1])
      .map(([s, v]) => `${s} ${(v * 100).toFixed(0)}%`)
      .join(', ');
    lines.push(
      pooled
        ? `${key}: Judged@${c.k} ${c.before.toFixed(2)} from the judged set, ${c.after.toFixed(2)} with pooled judgments (top ${c.k}: ${shares})`
        : `${key}: Judged@${c.k} ${c.before.toFixed(2)}${c.before < 0.5 ? ` — most of its top ${c.k} is unjudged and counts as not relevant: embctl judge --version ${key} --judge <spec>` : ''}`,
    );
  }
  for (const [judge, kappa] of Object.entries(l.kappas))
    lines.push(
      `judge ${judge}: kappa ${kappa === null ? 'not calibrated (embctl judge calibrate)' : kappa.toFixed(4)}`,
    );
  if (l.judgedOnly) lines.push('scored on judged results only (-J)');
  return lines;
}
