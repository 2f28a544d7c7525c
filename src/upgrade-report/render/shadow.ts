/** The shadow traffic section: agreement of the candidate with the primary on live searches. */
import { COLORS, esc, fmt, fmtDuration, fmtInt } from '../svg/common.js';
import { histogram } from '../svg/histogram.js';
import { lineChart } from '../svg/line-chart.js';
import type { ReportModel, ShadowSection } from '../types.js';
import { code, date, figure, HALF } from './common.js';

export function shadowEmpty(model: ReportModel): string {
  const key = model.candidate?.key ?? '<key>';
  return `No shadow traffic yet — run ${code(`embctl shadow start ${key} --sample 0.1`)} and let ${code('embctl serve')} answer some searches.`;
}

export function shadowSection(model: ReportModel): string {
  const s = model.shadow;
  const lead = `<p class="lead">A sample of live searches was also sent to the candidate; users always got the primary's results. Overlap@K is the share of the primary's top K that the candidate also returned; rank-biased overlap (RBO) also weighs agreement at the top of the list more (1 = same ranking).${s ? ` ${fmtInt(s.queries)} queries from ${date(s.firstAt)} to ${date(s.lastAt)}, primary ${s.primaryKeys.map(code).join(', ') || '–'}.` : ''}${s && (s.dropped || s.failed) ? ` Not compared: ${fmtInt(s.dropped)} dropped by the serving processes (queue full or shutdown) and ${fmtInt(s.failed)} that failed on the candidate.` : ''}</p>`;
  if (!s) {
    const empty = shadowEmpty(model);
    return `<section id="shadow"><h2>Shadow traffic</h2>${lead}
<div class="grid2">${figure('shadow-overlap', 'Distribution of overlap@K per query.', { empty })}${figure('shadow-rbo', 'Distribution of RBO per query.', { empty })}</div>
${figure('shadow-over-time', 'Mean overlap@K and RBO over time.', { empty })}</section>`;
  }
  const k = s.k ?? 'K';
  const hist = (name: 'shadow-overlap' | 'shadow-rbo', label: string, d: ShadowSection['overlap'], color: string) =>
    figure(
      name,
      `${label} per shadowed query (n=${fmtInt(d.total)}); dashed lines: mean ${fmt(d.mean, 2)} and 10th percentile ${fmt(d.p10, 2)}.`,
      {
        svg: histogram({
          id: `chart-${name}`,
          title: `Distribution of ${label}`,
          desc: `${fmtInt(d.total)} queries; mean ${fmt(d.mean, 3)}, median ${fmt(d.p50, 3)}, 10th percentile ${fmt(d.p10, 3)}.`,
          bins: d.bins,
          color,
          xLabel: label,
          markers: [
            ...(d.mean !== null ? [{ value: d.mean, label: `mean ${fmt(d.mean, 2)}`, color: COLORS.ink }] : []),
            ...(d.p10 !== null ? [{ value: d.p10, label: `p10 ${fmt(d.p10, 2)}`, color: COLORS.fail }] : []),
          ],
          width: HALF,
        }),
      },
    );
  const bucket = s.bucketSeconds * 1000;
  const series = s.series.map((p) => ({ ...p, t: new Date(p.at).getTime() }));
  const overTime = figure(
    'shadow-over-time',
    `Mean overlap@${esc(k)} and RBO per ${esc(fmtDuration(s.bucketSeconds))} bucket; grey bars: shadowed queries per bucket.`,
    {
      svg: lineChart({
        id: 'chart-shadow-over-time',
        title: `Mean overlap@${k} and RBO over time`,
        desc: `${series.length} buckets of ${fmtDuration(s.bucketSeconds)} from ${s.firstAt} to ${s.lastAt}.`,
        series: [
          {
            label: `mean overlap@${k}`,
            color: COLORS.candidate,
            points: series.map((p) => ({
              t: p.t,
              y: p.meanOverlap,
              tooltip: `${p.at.replace('T', ' ').slice(0, 19)} UTC: mean overlap@${k} ${p.meanOverlap.toFixed(3)} over ${p.queries} queries`,
            })),
          },
          {
            label: 'mean RBO',
            color: COLORS.shadow,
            dashed: true,
            points: series.map((p) => ({
              t: p.t,
              y: p.meanRbo,
              tooltip: `${p.at.replace('T', ' ').slice(0, 19)} UTC: mean RBO ${p.meanRbo.toFixed(3)} over ${p.queries} queries`,
            })),
          },
        ],
        volume: { label: 'queries', points: series.map((p) => ({ t: p.t, count: p.queries })), bucketMs: bucket },
        yLabel: 'agreement',
        yMin: 0,
        yMax: 1,
      }),
    },
  );
  const segs =
    s.segments.length > 1 || (s.segments[0] && s.segments[0].segment !== '(none)')
      ? `<h3>By segment</h3><div class="table-wrap"><table><thead><tr><th>Segment</th><th class="num">Queries</th><th class="num">Mean overlap@${esc(k)}</th><th class="num">Mean RBO</th></tr></thead><tbody>${s.segments.map((g) => `<tr><td>${esc(g.segment)}</td><td class="num">${fmtInt(g.queries)}</td><td class="num">${fmt(g.meanOverlap)}</td><td class="num">${fmt(g.meanRbo)}</td></tr>`).join('')}</tbody></table></div>`
      : '';
  return `<section id="shadow"><h2>Shadow traffic</h2>${lead}
<div class="grid2">${hist('shadow-overlap', `overlap@${k}`, s.overlap, COLORS.candidate)}${hist('shadow-rbo', 'RBO', s.rbo, COLORS.shadow)}</div>
${overTime}
${segs}
</section>`;
}
