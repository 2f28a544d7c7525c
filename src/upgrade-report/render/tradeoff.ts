/** The size / quality / latency section: every live version on one bubble chart, and the same figures as a table. */
import { COLORS, esc, fmt, fmtInt, fmtMs } from '../svg/common.js';
import { scatterChart, type ScatterPoint } from '../svg/scatter-chart.js';
import type { ReportModel, TradeoffPoint } from '../types.js';
import { code, figure, FULL } from './common.js';

const mb = (b: number) => `${(b / 1048576).toFixed(2)} MB`;
const bytes = (b: number) => (b >= 1000 ? `${+(b / 1000).toFixed(1)} kB` : `${Math.round(b)} B`);

type Plotted = TradeoffPoint & { storage: NonNullable<TradeoffPoint['storage']>; ndcg10: number };

function colorOf(model: ReportModel, key: string): string {
  if (model.candidate?.key === key) return COLORS.candidate;
  if (model.baseline?.key === key) return COLORS.primary;
  return COLORS.shadow;
}

function tooltip(p: Plotted): string {
  return (
    `${p.versionKey}${p.transform ? ` (${p.transform} of ${p.derivedFrom})` : ''}: ` +
    `${p.storage.bytesPerVector} bytes/vector, nDCG@10 ${fmt(p.ndcg10, 4)}, ` +
    `p50 ${p.latency ? fmtMs(p.latency.p50) : 'not recorded'} (run ${p.runId}${p.asBaseline ? ', as baseline' : ''})`
  );
}

function table(points: TradeoffPoint[]): string {
  const rows = points
    .map(
      (p) =>
        `<tr><th scope="row">${esc(p.versionKey)}${p.transform ? ` <span class="muted">${esc(p.transform)} of ${esc(p.derivedFrom ?? '')}</span>` : ''}</th>` +
        `<td class="num">${p.storage ? esc(p.storage.bytesPerVector) : '–'}</td>` +
        `<td class="num">${p.storage ? mb(p.storage.heapBytes + p.storage.indexBytes) : '–'}</td>` +
        `<td class="num">${p.ndcg10 === null ? '–' : fmt(p.ndcg10, 4)}</td>` +
        `<td class="num">${p.latency ? esc(fmtMs(p.latency.p50)) : '–'}</td>` +
        `<td>${p.runId === null ? 'no run on this set' : `run ${p.runId}${p.asBaseline ? ' (as baseline)' : ''}`}</td></tr>`,
    )
    .join('');
  return `<div class="table-wrap"><table class="tradeoff"><thead><tr><th>Version</th><th class="num">Bytes / vector</th><th class="num">Heap + index</th><th class="num">nDCG@10</th><th class="num">p50 search</th><th>Evaluation</th></tr></thead><tbody>${rows}</tbody></table></div>`;
}

export function tradeoffSection(model: ReportModel): string {
  const t = model.tradeoff;
  const lead =
    '<p class="lead">Every version that is not retired, on one chart: what its vectors take, what they retrieve, and how fast. A derived version (<code>embctl versions derive</code>) trades size against quality at no encoder cost; this is where the trade shows.</p>';
  const plotted = t.points.filter(
    (p): p is Plotted => p.storage !== null && p.storage.vectors > 0 && p.ndcg10 !== null,
  );
  const concurrency = [...new Set(plotted.flatMap((p) => (p.latency ? [p.latency.concurrency] : [])))];
  const caption =
    `x: mean stored bytes per vector of each version's own partition (<code>pg_column_size</code>, log scale; a re-ranking version also reads its parent's vectors, not counted here; the table adds heap + index size). ` +
    `y: nDCG@10 overall from each version's latest evaluation on ${t.judgedSet ? code(t.judgedSet) : 'the judged set'} (as candidate, or as the baseline of another version's run). ` +
    `Bubble area: p50 of the per-query search time that same evaluation recorded (query embedding + SQL${concurrency.length ? `, ${concurrency.join(' or ')} searches in flight` : ''}), not shadow traffic; a hollow ring: that run recorded no search times.`;
  if (!t.judgedSet || plotted.length === 0) {
    const empty = t.judgedSet
      ? `No version has both stored vectors and an nDCG@10 on ${code(t.judgedSet)} yet — run ${code('embctl evaluate --version <key>')} for each version.`
      : `No evaluation yet — run ${code('embctl evaluate --version <key>')} for each version to place it on this chart.`;
    return `<section id="tradeoff"><h2>Size, quality and latency</h2>${lead}${figure('versions-tradeoff', caption, { empty })}${t.points.length ? table(t.points) : ''}</section>`;
  }
  const points: ScatterPoint[] = plotted.map((p) => ({
    label: `${p.versionKey} · ${p.latency ? fmtMs(p.latency.p50) : 'p50 –'}`,
    x: p.storage.bytesPerVector,
    y: p.ndcg10,
    size: p.latency?.p50 ?? null,
    color: colorOf(model, p.versionKey),
    tooltip: tooltip(p),
    data: {
      version: p.versionKey,
      'bytes-per-vector': String(p.storage.bytesPerVector),
      ndcg10: String(p.ndcg10),
      'p50-ms': p.latency ? String(p.latency.p50) : '',
    },
  }));
  const missing = t.points.filter((p) => !plotted.includes(p as Plotted)).map((p) => p.versionKey);
  const svg = scatterChart({
    id: 'chart-versions-tradeoff',
    title: 'Stored bytes per vector vs nDCG@10, bubble area p50 search time, one point per version',
    desc: plotted.map(tooltip).join('; '),
    points,
    xLabel: 'stored bytes per vector (log scale)',
    yLabel: 'nDCG@10',
    formatX: bytes,
    sizeLegend: { label: 'bubble area ∝ p50 search time', format: fmtMs },
    legendItems: [
      ...(model.candidate ? [{ label: `candidate (${model.candidate.key})`, color: COLORS.candidate }] : []),
      ...(model.baseline ? [{ label: `baseline (${model.baseline.key})`, color: COLORS.primary }] : []),
      ...(plotted.some((p) => colorOf(model, p.versionKey) === COLORS.shadow)
        ? [{ label: 'other versions', color: COLORS.shadow }]
        : []),
    ],
    width: FULL,
    height: 340,
  });
  const note = missing.length
    ? ` Not on the chart (no stored vectors or no nDCG@10 on this set): ${missing.map(code).join(', ')}.`
    : '';
  return `<section id="tradeoff"><h2>Size, quality and latency</h2>${lead}${figure('versions-tradeoff', caption + note, { svg })}${table(t.points)}
<p class="muted">${fmtInt(plotted.length)} of ${fmtInt(t.points.length)} live versions plotted.</p></section>`;
}
