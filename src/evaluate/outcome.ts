/** Everything the renderers (table, Markdown, JUnit) show about one `evaluate`. */
import type { GateOutcome } from './apply-gates.js';
import type { Comparison } from './compare.js';
import type { Coverage } from './labels.js';
import type { VersionEvaluation } from './types.js';

/** Which labels scored the run, and the coverage the pooled judgments bought. */
export interface LabelsUsed {
  /** Judge ids accepted, in order of preference; null: every stored judge. */
  judges: string[] | null;
  /** Labels per source over the set's queries (`judged-set`, `human`, judge ids). */
  counts: Record<string, number>;
  /** trec_eval -J: only judged results were scored. */
  judgedOnly: boolean;
  coverage: { candidate: Coverage; baseline: Coverage | null };
  /** Latest kappa of each judge whose labels reached a scored top K (null: never calibrated). */
  kappas: Record<string, number | null>;
}

export interface EvaluationOutcome {
  candidate: VersionEvaluation;
  baseline: VersionEvaluation | null;
  /** Candidate vs baseline per measure, overall and per segment (empty without a baseline). */
  comparisons: Comparison[];
  /** Outcomes of the gates applied (empty when none). */
  outcomes: GateOutcome[];
  gatesSource: string | null;
  /** Significance level relative gates used (for the text of the rule). */
  alpha: number | null;
  gated: boolean;
  /** null when no gate was applied. */
  passed: boolean | null;
  runId?: number | null;
  createdAt?: Date;
  labels?: LabelsUsed;
}

/** The decision rule, in words, as the reports state it. */
export function decisionRule(alpha: number | null): string {
  const a = alpha ?? 0.05;
  return (
    'A relative gate (`max_drop`) fails when the mean drop of the metric (baseline − candidate, averaged over ' +
    `the segment's queries) is larger than \`max_drop\` **and** a paired randomization test over those queries finds the ` +
    `difference significant (two-sided p < ${a}). A drop larger than \`max_drop\` that could be noise passes (with a warning), ` +
    'and so does a significant drop within the tolerance. The bootstrap confidence interval of the difference is ' +
    'shown for judgement; it does not decide. An absolute gate (`min`, including Judged@K coverage) fails when the ' +
    "candidate's mean is below `min`. Relative gates are skipped when there is no baseline."
  );
}

export function reportPassed(r: EvaluationOutcome): string {
  if (r.passed === null) return 'no gates applied';
  const failed = r.outcomes.filter((o) => o.status === 'failed').length;
  const skipped = r.outcomes.filter((o) => o.status === 'skipped').length;
  const total = r.outcomes.length;
  return r.passed
    ? `PASSED: ${total - skipped} of ${total} gate(s) passed${skipped ? `, ${skipped} skipped` : ''}`
    : failed === 0
      ? `FAILED: no gate could be checked (${skipped} skipped): add an absolute gate, or compare against a --baseline`
      : `FAILED: ${failed} of ${total} gate(s) failed`;
}
