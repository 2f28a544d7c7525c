/** A difference plot: one row per segment, the point estimate and its interval around a zero line. */
import type { Interval } from '../types.js';
import { COLORS, clip, esc, legend, n, niceTicks, svgShell, tickDigits } from './common.js';

export interface IntervalRow {
  label: string;
  value: number;
  ci: Interval | null;
  tooltip?: string;
}

export interface IntervalChartOptions {
  id: string;
  title: string;
  desc: string;
  rows: IntervalRow[];
  xLabel: string;
  /** Legend text for the interval, e.g. "95% CI of the difference". */
  intervalLabel: string;
  format?: (v: number) => string;
  width?: number;
}

/** Colour of a difference: clearly better, clearly worse, or not distinguishable from zero. */
export function intervalColor(value: number, ci: Interval | null): string {
  if (ci) return ci.lo > 0 ? COLORS.pass : ci.hi < 0 ? COLORS.fail : COLORS.neutral;
  return value > 0 ? COLORS.pass : value < 0 ? COLORS.fail : COLORS.neutral;
}

export function intervalChart(o: IntervalChartOptions): string {
  const width = o.width ?? 720;
  const fmt = o.format ?? ((v: number) => `${v >= 0 ? '+' : '−'}${Math.abs(v).toFixed(3)}`);
  const rowH = 30;
  const labelW = Math.min(150, Math.max(70, ...o.rows.map((r) => Math.min(18, [...r.label].length) * 7 + 14)));
  const m = { top: 34, right: 64, bottom: 40, left: labelW };
  const height = m.top + m.bottom + rowH * Math.max(1, o.rows.length);
  const pw = width - m.left - m.right;
  let lo = 0;
  let hi = 0;
  for (const r of o.rows) {
    lo = Math.min(lo, r.value, r.ci?.lo ?? r.value);
    hi = Math.max(hi, r.value, r.ci?.hi ?? r.value);
  }
  const bound = Math.max(Math.abs(lo), Math.abs(hi)) || 0.01;
  const ticks = niceTicks(-bound, bound, 6);
  const t0 = ticks[0]!;
  const t1 = ticks.at(-1)!;
  const digits = tickDigits(ticks);
  const x = (v: number) => m.left + ((v - t0) / (t1 - t0)) * pw;
  let body = '';
  for (const t of ticks) {
    body += `<line x1="${n(x(t))}" x2="${n(x(t))}" y1="${m.top}" y2="${n(height - m.bottom)}" stroke="${COLORS.grid}"/>`;
    body += `<text x="${n(x(t))}" y="${n(height - m.bottom + 16)}" class="tick" text-anchor="middle">${t > 0 ? '+' : ''}${t.toFixed(digits)}</text>`;
  }
  body += `<line x1="${n(x(0))}" x2="${n(x(0))}" y1="${m.top}" y2="${n(height - m.bottom)}" stroke="${COLORS.ink}" stroke-width="1.2"/>`;
  o.rows.forEach((r, i) => {
    const cy = m.top + i * rowH + rowH / 2;
    const color = intervalColor(r.value, r.ci);
    const tip = r.tooltip ?? `${r.label}: ${fmt(r.value)}${r.ci ? ` (95% CI ${fmt(r.ci.lo)} to ${fmt(r.ci.hi)})` : ''}`;
    if (i % 2 === 0)
      body += `<rect x="${m.left}" y="${n(cy - rowH / 2)}" width="${n(pw)}" height="${rowH}" fill="#f8fafc"/>`;
    body += `<text x="${m.left - 10}" y="${n(cy + 4)}" class="tick label" text-anchor="end">${esc(clip(r.label, 18))}<title>${esc(r.label)}</title></text>`;
    body += `<g class="mark"><title>${esc(tip)}</title>`;
    if (r.ci) {
      body += `<path class="whisker" d="M${n(x(r.ci.lo))} ${n(cy)}H${n(x(r.ci.hi))}M${n(x(r.ci.lo))} ${n(cy - 6)}v12M${n(x(r.ci.hi))} ${n(cy - 6)}v12" stroke="${color}" stroke-width="2" fill="none"/>`;
    }
    body += `<rect class="point" x="${n(x(r.value) - 5)}" y="${n(cy - 5)}" width="10" height="10" transform="rotate(45 ${n(x(r.value))} ${n(cy)})" fill="${color}"/></g>`;
    body += `<text x="${n(width - m.right + 8)}" y="${n(cy + 4)}" class="value">${esc(fmt(r.value))}</text>`;
  });
  body += `<text x="${n(m.left + pw / 2)}" y="${n(height - 6)}" class="axis-label" text-anchor="middle">${esc(o.xLabel)}</text>`;
  body += legend(
    [
      { label: 'better', color: COLORS.pass },
      { label: 'worse', color: COLORS.fail },
      { label: 'interval spans 0', color: COLORS.neutral },
      { label: o.intervalLabel, color: COLORS.ink, shape: 'whisker' },
    ],
    12,
    16,
  );
  return svgShell({ id: o.id, title: o.title, desc: o.desc, width, height }, body);
}
