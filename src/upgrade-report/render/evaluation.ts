/** The evaluation section: the headline measure per segment, its difference, and the tables below. */
import { OVERALL_LABEL } from '../evaluation/table.js';
import { groupedBarChart, type BarGroup } from '../svg/bar-chart.js';
import { COLORS, esc, fmt, fmtSigned } from '../svg/common.js';
import { intervalChart } from '../svg/interval-chart.js';
import type { MetricComparison, ReportModel } from '../types.js';
import { code, date, figure, fmtP, HALF } from './common.js';
import { judgedCoverage } from './evaluation-judged.js';
import { gatesTable, historyTable, metricsTable } from './evaluation-tables.js';

export function evaluationSection(model: ReportModel): string {
  const e = model.evaluation;
  const key = model.candidate?.key ?? '<key>';
  if (!e) {
    const empty = `No evaluation yet — run ${code(`embctl evaluate --version ${key} --gate`)} with a judged query set.`;
    return `<section id="evaluation"><h2>Evaluation on judged queries</h2>
<p class="lead">Retrieval quality of the candidate against the baseline on a judged query set, per segment.</p>
<div class="grid2">${figure('eval-segments', 'Mean score per segment, candidate vs baseline.', { empty })}${figure('eval-delta', 'Difference per segment with its 95% confidence interval.', { empty })}</div></section>`;
  }
  const metric = e.headlineMetric;
  const comparisons = e.segments
    .map((s) => ({ s, m: s.metrics.find((x) => x.metric === metric) }))
    .filter((x): x is { s: typeof x.s; m: MetricComparison } => x.m !== undefined && x.m.candidate !== null);
  const hasBaseline = comparisons.some((x) => x.m.baseline !== null);
  const meanCis = comparisons.some((x) => x.m.candidateCi || x.m.baselineCi);
  const segLabel = (s: { segment: string; queries: number | null }) =>
    (s.segment === OVERALL_LABEL ? 'overall' : s.segment) + (s.queries !== null ? ` (n=${s.queries})` : '');
  const series = [{ label: `${e.candidateKey} (candidate)`, color: COLORS.candidate }];
  if (hasBaseline) series.push({ label: `${e.baselineKey ?? 'baseline'} (baseline)`, color: COLORS.baseline });
  const segName = (s: { segment: string }) => (s.segment === OVERALL_LABEL ? 'overall' : s.segment);
  const groups: BarGroup[] = comparisons.map(({ s, m }) => ({
    label: segName(s),
    sublabel: s.queries !== null ? `n=${s.queries}` : undefined,
    values: [
      { value: m.candidate!, ci: m.candidateCi },
      ...(hasBaseline ? [m.baseline !== null ? { value: m.baseline, ci: m.baselineCi } : null] : []),
    ],
  }));
  const bars = comparisons.length
    ? figure(
        'eval-segments',
        `Mean ${esc(metric ?? '')} per segment: candidate ${code(e.candidateKey)} vs baseline ${code(e.baselineKey ?? '–')}. ${meanCis ? 'Whiskers: 95% confidence interval of each mean.' : 'No per-query scores stored, so no interval on the means.'}`,
        {
          svg: groupedBarChart({
            id: 'chart-eval-segments',
            title: `${metric} per segment, candidate vs baseline`,
            desc: comparisons
              .map(
                ({ s, m }) =>
                  `${segLabel(s)}: ${fmt(m.candidate)}${m.baseline !== null ? ` vs ${fmt(m.baseline)}` : ''}`,
              )
              .join('; '),
            series,
            groups,
            yLabel: metric ?? 'score',
            yMax: comparisons.every(({ m }) => (m.candidate ?? 0) <= 1 && (m.baseline ?? 0) <= 1) ? 1 : undefined,
            whiskerLabel: meanCis ? '95% CI of each mean' : undefined,
            width: HALF,
            height: 300,
          }),
        },
      )
    : figure('eval-segments', 'Mean score per segment.', {
        empty: `The evaluation run stored no scores this report can read — rerun ${code(`embctl evaluate --version ${key}`)}.`,
      });
  const deltas = comparisons.filter(({ m }) => m.delta !== null);
  const deltaCis = deltas.some(({ m }) => m.deltaCi);
  const delta = deltas.length
    ? figure(
        'eval-delta',
        `Difference in ${esc(metric ?? '')} (candidate − baseline) per segment. ${deltaCis ? 'Lines: 95% confidence interval of the paired difference; green when the whole interval is above 0, red when below.' : 'No interval was stored for the differences.'}`,
        {
          svg: intervalChart({
            id: 'chart-eval-delta',
            title: `${metric}: candidate minus baseline per segment`,
            desc: deltas
              .map(
                ({ s, m }) =>
                  `${segLabel(s)}: ${fmtSigned(m.delta)}${m.deltaCi ? ` [${fmtSigned(m.deltaCi.lo)}, ${fmtSigned(m.deltaCi.hi)}]` : ''}`,
              )
              .join('; '),
            rows: deltas.map(({ s, m }) => ({
              label: segName(s),
              value: m.delta!,
              ci: m.deltaCi,
              tooltip: `${segLabel(s)}: ${fmtSigned(m.delta)}${m.deltaCi ? ` (95% CI ${fmtSigned(m.deltaCi.lo)} to ${fmtSigned(m.deltaCi.hi)})` : ''}${m.pValue !== null ? `, p = ${fmtP(m.pValue)}` : ''}`,
            })),
            xLabel: `Δ ${metric} (candidate − baseline)`,
            intervalLabel: '95% CI of Δ',
            width: HALF,
          }),
        },
      )
    : figure('eval-delta', 'Difference per segment.', {
        empty: `No baseline scores to compare with — evaluate against a baseline: ${code(`embctl evaluate --version ${key} --gate`)}.`,
      });
  const run = `Run #${e.runId} on judged set ${code(e.judgedSet)}${e.judgedSetSha256 ? ` <span class="muted">(sha256 ${esc(e.judgedSetSha256.slice(0, 12))})</span>` : ''}, ${date(e.createdAt)} by ${esc(e.actor)}${e.gated ? `, gated: <strong class="${e.passed ? 'ok' : 'ko'}">${e.passed ? 'passed' : e.passed === false ? 'failed' : 'undecided'}</strong>` : ', not gated'}.`;
  const notes = e.intervalNotes.length
    ? `<ul class="notes">${e.intervalNotes.map((n) => `<li>${esc(n)}</li>`).join('')}</ul>`
    : '';
  const skipped = e.skipped.length
    ? `<p class="muted small">Stored values this report could not read (skipped): ${esc(e.skipped.slice(0, 8).join('; '))}${e.skipped.length > 8 ? ` and ${e.skipped.length - 8} more` : ''}.</p>`
    : '';
  return `<section id="evaluation">
<h2>Evaluation on judged queries</h2>
<p class="lead">Retrieval quality of ${code(e.candidateKey)} against ${code(e.baselineKey ?? 'no baseline')} on queries with known relevant documents, overall and per segment, so that a gain on average cannot hide a loss on one kind of query. ${run}</p>
<div class="grid2">${bars}${delta}</div>
${notes}
${metricsTable(e)}${judgedCoverage(e)}
${gatesTable(e)}
${historyTable(model)}
${skipped}
</section>`;
}
