/** Lines over time (UTC), with a point per bucket; y is a score in [yMin, yMax]. */
import { COLORS, esc, legend, n, niceTicks, svgShell, tickDigits, timeTicks } from './common.js';

export interface LinePoint {
  /** Time in ms since the epoch. */
  t: number;
  y: number;
  tooltip?: string;
}

export interface LineSeries {
  label: string;
  color: string;
  points: LinePoint[];
  dashed?: boolean;
}

export interface LineChartOptions {
  id: string;
  title: string;
  desc: string;
  series: LineSeries[];
  yLabel: string;
  yMin?: number;
  yMax?: number;
  /** Faint bars of a count per point (e.g. queries per bucket), on their own scale. */
  volume?: { label: string; points: { t: number; count: number }[]; bucketMs: number };
  width?: number;
  height?: number;
}

export function lineChart(o: LineChartOptions): string {
  const width = o.width ?? 960;
  const height = o.height ?? 280;
  const m = { top: 34, right: 16, bottom: 40, left: 52 };
  const pw = width - m.left - m.right;
  const ph = height - m.top - m.bottom;
  const all = o.series.flatMap((s) => s.points);
  let t0 = Math.min(...all.map((p) => p.t), ...(o.volume?.points.map((p) => p.t) ?? []));
  let t1 = Math.max(...all.map((p) => p.t), ...(o.volume?.points.map((p) => p.t + o.volume!.bucketMs) ?? []));
  if (!Number.isFinite(t0) || !Number.isFinite(t1)) {
    t0 = 0;
    t1 = 1;
  }
  if (t1 - t0 < 1000) {
    t0 -= 30_000;
    t1 += 30_000;
  }
  const ys = all.map((p) => p.y);
  const yTicks = niceTicks(o.yMin ?? Math.min(0, ...ys), o.yMax ?? Math.max(...ys, 0.0001), 5);
  const y0 = yTicks[0]!;
  const y1 = yTicks.at(-1)!;
  const digits = tickDigits(yTicks);
  const x = (t: number) => m.left + ((t - t0) / (t1 - t0)) * pw;
  const y = (v: number) => m.top + ph - ((v - y0) / (y1 - y0)) * ph;
  let body = '';
  for (const t of yTicks) {
    body += `<line x1="${m.left}" x2="${n(width - m.right)}" y1="${n(y(t))}" y2="${n(y(t))}" stroke="${COLORS.grid}"/>`;
    body += `<text x="${m.left - 8}" y="${n(y(t) + 4)}" class="tick" text-anchor="end">${t.toFixed(digits)}</text>`;
  }
  const tt = timeTicks(t0, t1, Math.max(3, Math.floor(pw / 110)));
  for (const t of tt.ticks) {
    body += `<line x1="${n(x(t))}" x2="${n(x(t))}" y1="${n(m.top + ph)}" y2="${n(m.top + ph + 4)}" stroke="${COLORS.axis}"/>`;
    body += `<text x="${n(x(t))}" y="${n(m.top + ph + 17)}" class="tick" text-anchor="middle">${esc(tt.format(t))}</text>`;
  }
  if (o.volume && o.volume.points.length) {
    const vmax = Math.max(1, ...o.volume.points.map((p) => p.count));
    const bw = Math.max(1, (o.volume.bucketMs / (t1 - t0)) * pw - 1);
    for (const p of o.volume.points) {
      const h = (p.count / vmax) * ph * 0.3;
      body += `<rect class="volume" x="${n(x(p.t))}" y="${n(m.top + ph - h)}" width="${n(bw)}" height="${n(Math.max(0.5, h))}" fill="#e2e8f0"><title>${esc(`${new Date(p.t).toISOString().replace('T', ' ').slice(0, 19)} UTC: ${p.count.toLocaleString('en-US')} ${o.volume.label}`)}</title></rect>`;
    }
  }
  body += `<line x1="${m.left}" x2="${n(width - m.right)}" y1="${n(m.top + ph)}" y2="${n(m.top + ph)}" stroke="${COLORS.axis}"/>`;
  body += `<text class="axis-label" transform="translate(14 ${n(m.top + ph / 2)}) rotate(-90)" text-anchor="middle">${esc(o.yLabel)}</text>`;
  body += `<text x="${n(width - m.right)}" y="${n(height - 4)}" class="axis-label" text-anchor="end">time (UTC)</text>`;
  // Half a bucket to the right, so a point sits in the middle of its bucket.
  const shift = o.volume ? o.volume.bucketMs / 2 : 0;
  for (const s of o.series) {
    const pts = [...s.points].sort((a, b) => a.t - b.t);
    if (pts.length > 1) {
      const d = pts.map((p, i) => `${i ? 'L' : 'M'}${n(x(p.t + shift))} ${n(y(p.y))}`).join('');
      body += `<path class="line" d="${d}" fill="none" stroke="${s.color}" stroke-width="2.2" stroke-linejoin="round"${s.dashed ? ' stroke-dasharray="6 4"' : ''}/>`;
    }
    const r = pts.length > 60 ? 1.8 : 3;
    for (const p of pts) {
      body += `<circle class="point" cx="${n(x(p.t + shift))}" cy="${n(y(p.y))}" r="${r}" fill="${s.color}"><title>${esc(p.tooltip ?? `${s.label}: ${p.y.toFixed(3)}`)}</title></circle>`;
    }
  }
  const items: { label: string; color: string; shape?: 'line' | 'dash' | 'rect' }[] = o.series.map((s) => ({
    label: s.label,
    color: s.color,
    shape: s.dashed ? 'dash' : 'line',
  }));
  if (o.volume) items.push({ label: o.volume.label, color: '#e2e8f0', shape: 'rect' });
  body += legend(items, m.left, 16);
  return svgShell({ id: o.id, title: o.title, desc: o.desc, width, height }, body);
}
