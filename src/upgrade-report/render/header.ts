/** The top of the report: title, verdict and the key figures. */
import { COLORS, esc, fmt, fmtDuration, fmtInt, fmtMs, fmtSigned, fmtUsd } from '../svg/common.js';
import { intervalColor } from '../svg/interval-chart.js';
import type { ReportModel } from '../types.js';
import { headlineComparison } from '../verdict.js';
import { code, date } from './common.js';

const BADGE: Record<ReportModel['verdict']['status'], string> = {
  pass: 'Ready',
  fail: 'Blocked',
  active: 'Active',
  pending: 'Pending',
  empty: 'No data',
};

export function header(model: ReportModel, title: string): string {
  const v = model.verdict;
  const e = model.evaluation;
  const meta = [
    `generated ${date(model.generatedAt)}`,
    `database ${esc(model.database)}`,
    model.activeKey ? `active version ${code(model.activeKey)}` : 'no active version',
  ];
  if (e) meta.push(`judged set ${code(e.judgedSet)}`);
  return `<header class="top">
<div class="eyebrow">embctl · embedding upgrade report</div>
<h1>${esc(title)}</h1>
<p class="meta">${meta.join(' · ')}</p>
<section class="verdict verdict-${v.status}" aria-label="verdict" data-verdict="${v.status}">
<div class="badge">${BADGE[v.status]}</div>
<div><p class="headline">${esc(v.headline)}</p>${v.details.length ? `<ul>${v.details.map((d) => `<li>${esc(d)}</li>`).join('')}</ul>` : ''}</div>
</section>
${kpis(model)}
</header>`;
}

function kpi(label: string, value: string, sub: string, tone = ''): string {
  return `<div class="kpi ${tone}"><div class="kpi-label">${label}</div><div class="kpi-value">${value}</div><div class="kpi-sub">${sub}</div></div>`;
}

function kpis(model: ReportModel): string {
  const cards: string[] = [];
  const h = headlineComparison(model);
  const e = model.evaluation;
  if (h && h.candidate !== null) {
    const tone =
      h.delta === null
        ? ''
        : intervalColor(h.delta, h.deltaCi) === COLORS.pass
          ? 'good'
          : intervalColor(h.delta, h.deltaCi) === COLORS.fail
            ? 'bad'
            : '';
    const sub =
      h.delta !== null
        ? `${fmtSigned(h.delta)} vs ${esc(e?.baselineKey ?? 'baseline')}${h.deltaCi ? ` · 95% CI ${fmtSigned(h.deltaCi.lo)} to ${fmtSigned(h.deltaCi.hi)}` : ''}`
        : 'no baseline to compare';
    cards.push(kpi(esc(h.metric), fmt(h.candidate), sub, tone));
  }
  if (e && e.gates.length) {
    const failed = e.gates.filter((g) => !g.passed).length;
    const passed = e.gates.filter((g) => g.passed && g.status !== 'skipped').length;
    const skipped = e.gates.length - passed - failed;
    const sub = failed ? `${failed} failed` : skipped ? 'none failed' : 'all passed';
    cards.push(
      kpi(
        'Gates',
        `${passed}/${e.gates.length}`,
        `${sub}${skipped ? ` · ${skipped} skipped` : ''}`,
        failed ? 'bad' : 'good',
      ),
    );
  }
  const s = model.shadow;
  if (s) {
    cards.push(
      kpi(
        `Shadow overlap@${esc(s.k ?? 'K')}`,
        fmt(s.overlap.mean, 2),
        `RBO ${fmt(s.rbo.mean, 2)} · ${fmtInt(s.queries)} queries`,
      ),
    );
    if (s.latency) {
      const ratio = s.latency.primary.p95 > 0 ? s.latency.candidate.p95 / s.latency.primary.p95 : null;
      cards.push(
        kpi(
          'Candidate p95 latency',
          fmtMs(s.latency.candidate.p95),
          `primary ${fmtMs(s.latency.primary.p95)}${ratio ? ` · ×${ratio.toFixed(2)}` : ''}`,
          ratio !== null && ratio > 1.5 ? 'warn' : '',
        ),
      );
    }
  }
  const bf = model.candidate ? model.backfill.find((x) => x.versionKey === model.candidate!.key) : undefined;
  if (bf)
    cards.push(
      kpi(
        'Backfill cost',
        fmtUsd(bf.costUsd),
        `${fmtDuration(bf.wallSeconds)} · ${fmtInt(bf.embedded)} embedded, ${fmtInt(bf.reused)} reused`,
      ),
    );
  return cards.length ? `<div class="kpis">${cards.join('')}</div>` : '';
}
