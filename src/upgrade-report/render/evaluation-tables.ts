/** The tables of the evaluation section: every measure by segment, the gates, earlier runs. */
import { OVERALL_LABEL } from '../evaluation/table.js';
import { COLORS, esc, fmt, fmtInt, fmtSigned } from '../svg/common.js';
import { intervalColor } from '../svg/interval-chart.js';
import type { EvaluationSection, GateResult, MetricComparison, ReportModel } from '../types.js';
import { code, date, fmtP, segTitle } from './common.js';

function deltaTone(m: MetricComparison): string {
  if (m.delta === null) return '';
  const c = intervalColor(m.delta, m.deltaCi);
  return c === COLORS.pass ? 'up' : c === COLORS.fail ? 'down' : 'flat';
}

/** Measures as rows, segments as column groups (candidate, baseline, Δ), so that many measures and segments stay readable. */
export function metricsTable(e: EvaluationSection): string {
  if (!e.metricNames.length || !e.segments.length) return '';
  const hasBaseline = e.segments.some((s) => s.metrics.some((m) => m.baseline !== null));
  const span = hasBaseline ? 3 : 1;
  const cand = esc(e.candidateKey);
  const base = esc(e.baselineKey ?? 'baseline');
  const head1 = e.segments
    .map(
      (s) =>
        `<th class="seg" colspan="${span}">${esc(segTitle(s.segment))}${s.queries !== null ? ` <span class="muted">n=${fmtInt(s.queries)}</span>` : ''}</th>`,
    )
    .join('');
  const head2 = e.segments
    .map(() =>
      hasBaseline
        ? `<th class="num seg">${cand}</th><th class="num">${base}</th><th class="num">Δ</th>`
        : `<th class="num seg">${cand}</th>`,
    )
    .join('');
  const family = (name: string) => name.replace(/@\d+$/, '');
  const rows = e.metricNames
    .map((name, i) => {
      const cells = e.segments
        .map((s) => {
          const m = s.metrics.find((x) => x.metric === name);
          if (!m || (m.candidate === null && m.baseline === null))
            return `<td class="num muted seg">–</td>${hasBaseline ? '<td class="num muted">–</td><td class="num muted">–</td>' : ''}`;
          const tip =
            `${name}, ${segTitle(s.segment)}: ${e.candidateKey} ${fmt(m.candidate)}${hasBaseline ? `, ${e.baselineKey ?? 'baseline'} ${fmt(m.baseline)}, Δ ${fmtSigned(m.delta)}` : ''}` +
            `${m.deltaCi ? `, 95% CI of Δ ${fmtSigned(m.deltaCi.lo)} to ${fmtSigned(m.deltaCi.hi)}` : ''}${m.pValue !== null ? `, p = ${fmtP(m.pValue)}` : ''}${m.n !== null ? `, ${m.n} queries` : ''}`;
          const t = ` title="${esc(tip)}"`;
          if (!hasBaseline) return `<td class="num seg"${t}>${fmt(m.candidate)}</td>`;
          return (
            `<td class="num seg"${t}><strong>${fmt(m.candidate)}</strong></td><td class="num muted"${t}>${fmt(m.baseline)}</td>` +
            `<td class="num"${t}><span class="delta-inline ${deltaTone(m)}">${fmtSigned(m.delta)}</span></td>`
          );
        })
        .join('');
      const classes = [
        name === e.headlineMetric ? 'focus' : '',
        i > 0 && family(e.metricNames[i - 1]!) !== family(name) ? 'group-start' : '',
      ]
        .filter(Boolean)
        .join(' ');
      return `<tr${classes ? ` class="${classes}"` : ''}><th scope="row">${esc(name)}</th>${cells}</tr>`;
    })
    .join('');
  const explain = hasBaseline
    ? `Mean over the segment's queries for ${code(e.candidateKey)} (candidate) and ${code(e.baselineKey ?? 'baseline')} (baseline), and the difference Δ: green or red when its 95% confidence interval excludes 0, grey otherwise. Hover a cell for the interval and p-value.`
    : `Mean over the segment's queries for ${code(e.candidateKey)}; this run has no baseline scores.`;
  return `<h3>All measures by segment</h3>
<p class="small muted">${explain}</p>
<div class="table-wrap"><table class="metrics"><thead><tr><th rowspan="${hasBaseline ? 2 : 1}">Measure</th>${head1}</tr>${hasBaseline ? `<tr>${head2}</tr>` : ''}</thead><tbody>${rows}</tbody></table></div>`;
}

const STATUS_CHIP: Record<GateResult['status'], string> = {
  passed: '<span class="chip chip-pass">pass</span>',
  failed: '<span class="chip chip-fail">fail</span>',
  skipped: '<span class="chip chip-skip">skipped</span>',
};

function threshold(g: GateResult): string {
  if (g.threshold === null) return '–';
  if (g.kind === 'min') return `≥ ${g.threshold}`;
  if (g.kind === 'max_drop')
    return `drop ≤ ${g.threshold}${g.alpha !== null ? `<br><span class="muted small">α = ${g.alpha}</span>` : ''}`;
  return String(g.threshold);
}

export function gatesTable(e: EvaluationSection): string {
  if (!e.gates.length)
    return `<p class="muted">This run had no gates${e.gated ? '' : ` (run ${code('embctl evaluate --gate')} to gate a cut-over)`}.</p>`;
  const levels = new Set(e.gates.filter((g) => g.ci).map((g) => g.confidence ?? 0.95));
  const level = levels.size === 1 ? `${Math.round([...levels][0]! * 100)}% ` : levels.size === 0 ? '95% ' : '';
  const rows = e.gates
    .map((g) => {
      const what = [segTitle(g.segment ?? OVERALL_LABEL), g.metric, g.kind].filter(Boolean).join(' · ');
      const ci = g.ci
        ? `${levels.size > 1 && g.confidence !== null ? `${Math.round(g.confidence * 100)}%: ` : ''}${fmtSigned(g.ci.lo)} to ${fmtSigned(g.ci.hi)}`
        : '–';
      const status = g.passed ? (g.status === 'skipped' ? 'skipped' : 'passed') : 'failed';
      return (
        `<tr class="${status === 'passed' ? '' : status}"><td>${STATUS_CHIP[status]}</td>` +
        `<td><strong>${esc(g.name)}</strong><br><span class="muted small">${esc(what)}</span></td>` +
        `<td class="num">${fmt(g.candidate)}</td><td class="num">${fmt(g.baseline)}</td><td class="num">${fmtSigned(g.delta)}</td>` +
        `<td class="num nowrap">${ci}</td><td class="num nowrap">${fmtP(g.pValue)}</td><td class="num nowrap">${threshold(g)}</td>` +
        `<td class="message">${esc(g.message ?? '')}</td></tr>`
      );
    })
    .join('');
  return `<h3>Gates</h3>
<p class="small muted">The checks ${code('embctl evaluate --gate')} applied; activation is refused (unless forced, which is logged) while the last gated run fails. A ${code('min')} gate needs the candidate's mean at or above the threshold; a ${code('max_drop')} gate fails only when the drop from the baseline is larger than allowed and significant (p &lt; α). Δ, its confidence interval and p come from the paired comparison of the relative gates.</p>
<div class="table-wrap"><table class="gates"><thead><tr><th></th><th>Gate</th><th class="num">Candidate</th><th class="num">Baseline</th><th class="num">Δ</th><th class="num">${level}CI of Δ</th><th class="num">p</th><th class="num">Threshold</th><th>Message</th></tr></thead><tbody>${rows}</tbody></table></div>`;
}

export function historyTable(model: ReportModel): string {
  if (model.evaluationHistory.length < 2) return '';
  const rows = model.evaluationHistory
    .map(
      (h) =>
        `<tr${h.runId === model.evaluation?.runId ? ' class="focus"' : ''}><td class="num">#${h.runId}</td><td>${date(h.createdAt)}</td><td>${esc(h.judgedSet)}</td><td>${esc(h.baselineKey ?? '–')}</td>` +
        `<td>${h.gated ? (h.passed ? '<span class="chip chip-pass">pass</span>' : h.passed === false ? '<span class="chip chip-fail">fail</span>' : '–') : 'not gated'}</td><td>${esc(h.actor)}</td></tr>`,
    )
    .join('');
  return `<details><summary>Earlier evaluation runs of ${esc(model.candidate?.key ?? '')} (${model.evaluationHistory.length})</summary><div class="table-wrap"><table><thead><tr><th class="num">Run</th><th>When</th><th>Judged set</th><th>Baseline</th><th>Gate</th><th>Actor</th></tr></thead><tbody>${rows}</tbody></table></div></details>`;
}
