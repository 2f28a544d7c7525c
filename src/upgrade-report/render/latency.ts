/** The latency section: primary versus candidate on the same shadowed searches. */
import { groupedBarChart, type BarGroup } from '../svg/bar-chart.js';
import { COLORS, fmtMs } from '../svg/common.js';
import type { ReportModel } from '../types.js';
import { figure, FULL } from './common.js';
import { shadowEmpty } from './shadow.js';

export function latencySection(model: ReportModel): string {
  const s = model.shadow;
  const lat = s?.latency;
  const lead =
    '<p class="lead">Search latency measured on the same shadowed queries, so both versions answered the same load at the same time. Percentiles over all shadowed queries; lower is better.</p>';
  if (!s || !lat) {
    return `<section id="latency"><h2>Latency</h2>${lead}${figure('latency', 'Primary vs candidate latency percentiles.', { empty: shadowEmpty(model) })}</section>`;
  }
  const primaryLabel = `primary (${s.primaryKeys.join(', ') || '–'})`;
  const candLabel = `candidate (${s.candidateKey})`;
  const groups: BarGroup[] = (['p50', 'p95', 'p99', 'mean'] as const).map((p) => ({
    label: p,
    values: [{ value: lat.primary[p] }, { value: lat.candidate[p] }],
  }));
  const ratio = (p: 'p50' | 'p95') => (lat.primary[p] > 0 ? `×${(lat.candidate[p] / lat.primary[p]).toFixed(2)}` : '–');
  return `<section id="latency"><h2>Latency</h2>${lead}
${figure(
  'latency',
  `Latency in milliseconds, primary vs candidate: the candidate's p50 is ${ratio('p50')} and its p95 ${ratio('p95')} the primary's.`,
  {
    svg: groupedBarChart({
      id: 'chart-latency',
      title: 'Search latency percentiles, primary vs candidate',
      desc: `p50 ${fmtMs(lat.primary.p50)} vs ${fmtMs(lat.candidate.p50)}; p95 ${fmtMs(lat.primary.p95)} vs ${fmtMs(lat.candidate.p95)}; p99 ${fmtMs(lat.primary.p99)} vs ${fmtMs(lat.candidate.p99)}.`,
      series: [
        { label: primaryLabel, color: COLORS.primary },
        { label: candLabel, color: COLORS.candidate },
      ],
      groups,
      yLabel: 'milliseconds',
      format: (v) => (v < 10 ? v.toFixed(2) : v < 100 ? v.toFixed(1) : v.toFixed(0)),
      width: FULL,
      height: 280,
    }),
  },
)}
</section>`;
}
