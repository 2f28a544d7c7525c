/**
 * A bubble chart: x on a log scale (sizes that differ by orders of
 * magnitude), y linear, the area of each bubble a third quantity. Every
 * point carries its values in data attributes and a <title>.
 */
import { COLORS, esc, legend, n, niceTicks, svgShell, tickDigits } from './common.js';

export interface ScatterPoint {
  label: string;
  x: number;
  y: number;
  /** The bubble's quantity (area ∝ size); null draws a hollow ring of the smallest size. */
  size: number | null;
  color: string;
  tooltip: string;
  /** Written as `data-<name>` attributes (names are fixed by the caller). */
  data: Record<string, string>;
}

export interface ScatterChartOptions {
  id: string;
  title: string;
  desc: string;
  points: ScatterPoint[];
  xLabel: string;
  yLabel: string;
  formatX: (x: number) => string;
  /** The bubble legend's words, followed by the largest size. */
  sizeLegend?: { label: string; format: (v: number) => string };
  legendItems?: { label: string; color: string }[];
  width?: number;
  height?: number;
}

const R_MIN = 6;
const R_MAX = 20;

/** Ticks of a log10 axis at 1, 2 and 5 times powers of ten, covering [lo, hi]. */
export function logTicks(lo: number, hi: number): number[] {
  const out: number[] = [];
  for (let e = Math.floor(Math.log10(lo)); e <= Math.ceil(Math.log10(hi)); e++)
    for (const m of [1, 2, 5]) {
      const t = m * 10 ** e;
      if (t >= lo && t <= hi) out.push(t);
    }
  return out;
}

export function scatterChart(o: ScatterChartOptions): string {
  const width = o.width ?? 960;
  const height = o.height ?? 340;
  const m = { top: 34, right: 24, bottom: 44, left: 56 };
  const pw = width - m.left - m.right;
  const ph = height - m.top - m.bottom;
  const xs = o.points.map((p) => Math.max(1, p.x));
  const x0 = Math.min(...xs) / 1.6;
  const x1 = Math.max(...xs) * 1.6;
  const ys = o.points.map((p) => p.y);
  const spread = Math.max(0.02, Math.max(...ys) - Math.min(...ys));
  const yTicks = niceTicks(Math.max(0, Math.min(...ys) - spread * 0.3), Math.min(1, Math.max(...ys) + spread * 0.3), 5);
  const y0 = yTicks[0]!;
  const y1 = yTicks.at(-1)!;
  const digits = tickDigits(yTicks);
  const x = (v: number) => m.left + ((Math.log10(Math.max(1, v)) - Math.log10(x0)) / Math.log10(x1 / x0)) * pw;
  const y = (v: number) => m.top + ph - ((v - y0) / (y1 - y0 || 1)) * ph;
  const sizes = o.points.flatMap((p) => (p.size === null ? [] : [p.size]));
  const maxSize = Math.max(0, ...sizes);
  const radius = (s: number | null) =>
    s === null || maxSize <= 0 ? R_MIN : R_MIN + (R_MAX - R_MIN) * Math.sqrt(s / maxSize);

  let body = '';
  for (const t of yTicks) {
    body += `<line x1="${m.left}" x2="${n(width - m.right)}" y1="${n(y(t))}" y2="${n(y(t))}" stroke="${COLORS.grid}"/>`;
    body += `<text x="${m.left - 8}" y="${n(y(t) + 4)}" class="tick" text-anchor="end">${t.toFixed(digits)}</text>`;
  }
  for (const t of logTicks(x0, x1)) {
    body += `<line x1="${n(x(t))}" x2="${n(x(t))}" y1="${m.top}" y2="${n(m.top + ph + 4)}" stroke="${COLORS.grid}"/>`;
    body += `<text x="${n(x(t))}" y="${n(m.top + ph + 17)}" class="tick" text-anchor="middle">${esc(o.formatX(t))}</text>`;
  }
  body += `<line x1="${m.left}" x2="${n(width - m.right)}" y1="${n(m.top + ph)}" y2="${n(m.top + ph)}" stroke="${COLORS.axis}"/>`;
  body += `<text class="axis-label" transform="translate(14 ${n(m.top + ph / 2)}) rotate(-90)" text-anchor="middle">${esc(o.yLabel)}</text>`;
  body += `<text x="${n(width - m.right)}" y="${n(height - 4)}" class="axis-label" text-anchor="end">${esc(o.xLabel)}</text>`;
  // Largest first, so a small bubble is never hidden under a big one.
  const order = [...o.points].sort((a, b) => radius(b.size) - radius(a.size));
  for (const p of order) {
    const cx = x(p.x);
    const cy = y(p.y);
    const r = radius(p.size);
    const attrs = Object.entries(p.data)
      .map(([k, v]) => ` data-${k}="${esc(v)}"`)
      .join('');
    const fill = p.size === null ? 'fill="none"' : `fill="${p.color}" fill-opacity="0.35"`;
    const anchor = cx > m.left + pw * 0.75 ? 'end' : 'start';
    const lx = anchor === 'end' ? cx - r - 4 : cx + r + 4;
    body +=
      `<g class="point"${attrs}><title>${esc(p.tooltip)}</title>` +
      `<circle cx="${n(cx)}" cy="${n(cy)}" r="${n(r)}" ${fill} stroke="${p.color}" stroke-width="1.8"/>` +
      `<text x="${n(lx)}" y="${n(cy + 4)}" class="value" text-anchor="${anchor}">${esc(p.label)}</text></g>`;
  }
  const items = (o.legendItems ?? []).map((i) => ({ ...i, shape: 'rect' as const }));
  body += legend(items, m.left, 16);
  if (o.sizeLegend && maxSize > 0)
    body += `<text x="${n(width - m.right)}" y="17" class="legend" text-anchor="end">${esc(`${o.sizeLegend.label} (largest ${o.sizeLegend.format(maxSize)})`)}</text>`;
  return svgShell({ id: o.id, title: o.title, desc: o.desc, width, height }, body);
}
