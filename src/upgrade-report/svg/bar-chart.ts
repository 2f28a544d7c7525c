/** Grouped vertical bars with optional confidence whiskers, and simple horizontal bars. */
import type { Interval } from '../types.js';
import { COLORS, clip, esc, legend, n, niceTicks, svgShell, tickDigits } from './common.js';

export interface BarSeries {
  label: string;
  color: string;
}

export interface BarValue {
  value: number;
  /** Whisker: an interval drawn over the bar (say what it is in `whiskerLabel`). */
  ci?: Interval | null;
  /** Tooltip (<title>) of the bar; defaults to "series group: value". */
  tooltip?: string;
}

export interface BarGroup {
  label: string;
  /** A second, muted line under the label (e.g. "n=150"). */
  sublabel?: string;
  /** One entry per series, in series order; null for a missing value. */
  values: (BarValue | null)[];
}

export interface GroupedBarOptions {
  id: string;
  title: string;
  desc: string;
  series: BarSeries[];
  groups: BarGroup[];
  yLabel?: string;
  /** Force the axis maximum (e.g. 1 for scores). */
  yMax?: number;
  format?: (v: number) => string;
  /** Legend entry for the whiskers, e.g. "95% CI of each mean". */
  whiskerLabel?: string;
  width?: number;
  height?: number;
}

export function groupedBarChart(o: GroupedBarOptions): string {
  const width = o.width ?? 720;
  const height = o.height ?? 300;
  const fmt = o.format ?? ((v: number) => v.toFixed(3));
  const m = { top: 34, right: 12, bottom: o.groups.some((g) => g.sublabel) ? 50 : 40, left: 56 };
  const pw = width - m.left - m.right;
  const ph = height - m.top - m.bottom;
  let max = 0;
  for (const g of o.groups) for (const v of g.values) if (v) max = Math.max(max, v.value, v.ci?.hi ?? 0);
  const ticks = niceTicks(0, o.yMax !== undefined ? Math.max(o.yMax, max) : max || 1, 5);
  const top = ticks.at(-1)!;
  const digits = tickDigits(ticks);
  const y = (v: number) => m.top + ph - (Math.max(0, Math.min(v, top)) / top) * ph;
  let body = '';
  for (const t of ticks) {
    body += `<line x1="${m.left}" x2="${n(width - m.right)}" y1="${n(y(t))}" y2="${n(y(t))}" stroke="${COLORS.grid}"/>`;
    body += `<text x="${m.left - 8}" y="${n(y(t) + 4)}" class="tick" text-anchor="end">${t.toFixed(digits)}</text>`;
  }
  if (o.yLabel) {
    body += `<text class="axis-label" transform="translate(14 ${n(m.top + ph / 2)}) rotate(-90)" text-anchor="middle">${esc(o.yLabel)}</text>`;
  }
  const groupW = pw / Math.max(1, o.groups.length);
  const inner = Math.min(groupW * 0.78, o.series.length * 64);
  const barW = inner / Math.max(1, o.series.length);
  const labelChars = Math.max(6, Math.floor(groupW / 7));
  o.groups.forEach((g, gi) => {
    const gx = m.left + gi * groupW + (groupW - inner) / 2;
    g.values.forEach((v, si) => {
      if (!v) return;
      const s = o.series[si]!;
      const x = gx + si * barW + barW * 0.08;
      const w = barW * 0.84;
      const y0 = y(Math.max(0, v.value));
      const h = Math.max(0.5, m.top + ph - y0);
      const tip =
        v.tooltip ?? `${s.label} — ${g.label}: ${fmt(v.value)}${v.ci ? ` (${fmt(v.ci.lo)} to ${fmt(v.ci.hi)})` : ''}`;
      body += `<rect class="bar" x="${n(x)}" y="${n(m.top + ph - h)}" width="${n(w)}" height="${n(h)}" rx="2" fill="${s.color}"><title>${esc(tip)}</title></rect>`;
      if (v.ci) {
        const cx = x + w / 2;
        const cap = Math.min(8, w * 0.35);
        body += `<path class="whisker" d="M${n(cx)} ${n(y(v.ci.lo))}V${n(y(v.ci.hi))}M${n(cx - cap)} ${n(y(v.ci.lo))}h${n(cap * 2)}M${n(cx - cap)} ${n(y(v.ci.hi))}h${n(cap * 2)}" stroke="${COLORS.ink}" stroke-width="1.4" fill="none"/>`;
      }
      if (w >= 22) {
        const ly = Math.min(y0, v.ci ? y(v.ci.hi) : y0) - 5;
        body += `<text x="${n(x + w / 2)}" y="${n(Math.max(m.top - 2, ly))}" class="value" text-anchor="middle">${esc(fmt(v.value))}</text>`;
      }
    });
    body += `<text x="${n(m.left + gi * groupW + groupW / 2)}" y="${n(m.top + ph + 18)}" class="tick group" text-anchor="middle">${esc(clip(g.label, labelChars))}<title>${esc(g.label)}</title></text>`;
    if (g.sublabel)
      body += `<text x="${n(m.left + gi * groupW + groupW / 2)}" y="${n(m.top + ph + 33)}" class="tick" text-anchor="middle">${esc(clip(g.sublabel, labelChars))}</text>`;
  });
  body += `<line x1="${m.left}" x2="${n(width - m.right)}" y1="${n(m.top + ph)}" y2="${n(m.top + ph)}" stroke="${COLORS.axis}"/>`;
  const items: { label: string; color: string; shape?: 'rect' | 'whisker' }[] = o.series.map((s) => ({
    label: s.label,
    color: s.color,
  }));
  if (o.whiskerLabel) items.push({ label: o.whiskerLabel, color: COLORS.ink, shape: 'whisker' });
  body += legend(items, m.left, 16);
  return svgShell({ id: o.id, title: o.title, desc: o.desc, width, height }, body);
}

export interface HBarRow {
  label: string;
  value: number;
  color?: string;
  /** Text at the end of the bar (default: format(value)). */
  valueLabel?: string;
  tooltip?: string;
}

export interface HBarOptions {
  id: string;
  title: string;
  desc: string;
  rows: HBarRow[];
  format?: (v: number) => string;
  /** Axis ticks and their labels (default: round numbers labelled with `format`). */
  axis?: (max: number) => { ticks: number[]; format: (v: number) => string };
  xLabel?: string;
  width?: number;
}

export function horizontalBarChart(o: HBarOptions): string {
  const width = o.width ?? 720;
  const fmt = o.format ?? ((v: number) => String(v));
  const rowH = 30;
  const labelW = Math.min(170, Math.max(60, ...o.rows.map((r) => Math.min(24, [...r.label].length) * 7.2 + 12)));
  const m = { top: 10, right: 84, bottom: 38, left: labelW };
  const height = m.top + m.bottom + rowH * Math.max(1, o.rows.length);
  const pw = width - m.left - m.right;
  const max = Math.max(0, ...o.rows.map((r) => r.value));
  const axis = o.axis ? o.axis(max || 1) : { ticks: niceTicks(0, max || 1, 4), format: fmt };
  const ticks = axis.ticks;
  const top = ticks.at(-1)! || 1;
  const x = (v: number) => m.left + (Math.max(0, v) / top) * pw;
  let body = '';
  for (const t of ticks) {
    body += `<line x1="${n(x(t))}" x2="${n(x(t))}" y1="${m.top}" y2="${n(height - m.bottom)}" stroke="${COLORS.grid}"/>`;
    body += `<text x="${n(x(t))}" y="${n(height - m.bottom + 16)}" class="tick" text-anchor="middle">${esc(axis.format(t))}</text>`;
  }
  o.rows.forEach((r, i) => {
    const yy = m.top + i * rowH;
    const w = Math.max(1, x(r.value) - m.left);
    const tip = r.tooltip ?? `${r.label}: ${r.valueLabel ?? fmt(r.value)}`;
    body += `<text x="${m.left - 8}" y="${n(yy + rowH / 2 + 4)}" class="tick label" text-anchor="end">${esc(clip(r.label, 24))}<title>${esc(r.label)}</title></text>`;
    body += `<rect class="bar" x="${m.left}" y="${n(yy + 6)}" width="${n(w)}" height="${n(rowH - 12)}" rx="2" fill="${r.color ?? COLORS.candidate}"><title>${esc(tip)}</title></rect>`;
    body += `<text x="${n(m.left + w + 6)}" y="${n(yy + rowH / 2 + 4)}" class="value">${esc(r.valueLabel ?? fmt(r.value))}</text>`;
  });
  body += `<line x1="${m.left}" x2="${m.left}" y1="${m.top}" y2="${n(height - m.bottom)}" stroke="${COLORS.axis}"/>`;
  if (o.xLabel)
    body += `<text x="${n(m.left + pw / 2)}" y="${n(height - 4)}" class="axis-label" text-anchor="middle">${esc(o.xLabel)}</text>`;
  return svgShell({ id: o.id, title: o.title, desc: o.desc, width, height }, body);
}
