/** A histogram of values in [0, 1]: equal-width bins, or one bar per discrete value (overlap@K = i/K). */
import type { HistogramBin } from '../types.js';
import { COLORS, esc, legend, n, niceTicks, svgShell } from './common.js';

export interface HistogramMarker {
  value: number;
  label: string;
  color?: string;
}

export interface HistogramOptions {
  id: string;
  title: string;
  desc: string;
  bins: HistogramBin[];
  color?: string;
  xLabel: string;
  markers?: HistogramMarker[];
  width?: number;
  height?: number;
}

export function histogram(o: HistogramOptions): string {
  const width = o.width ?? 460;
  const height = o.height ?? 260;
  const m = { top: 30, right: 12, bottom: 44, left: 48 };
  const pw = width - m.left - m.right;
  const ph = height - m.top - m.bottom;
  const total = o.bins.reduce((a, b) => a + b.count, 0);
  const max = Math.max(0, ...o.bins.map((b) => b.count));
  const ticks = niceTicks(0, max || 1, 4).filter((t) => Number.isInteger(t));
  const top = ticks.at(-1)!;
  const y = (v: number) => m.top + ph - (v / top) * ph;
  const discrete = o.bins.length > 0 && o.bins.every((b) => b.label !== undefined);
  const step = pw / Math.max(1, o.bins.length);
  /** x of a value in [0, 1]. */
  const xOf = discrete
    ? (v: number) => m.left + step / 2 + v * (o.bins.length - 1) * step
    : (v: number) => m.left + v * pw;
  const color = o.color ?? COLORS.candidate;
  let body = '';
  for (const t of ticks) {
    body += `<line x1="${m.left}" x2="${n(width - m.right)}" y1="${n(y(t))}" y2="${n(y(t))}" stroke="${COLORS.grid}"/>`;
    body += `<text x="${m.left - 8}" y="${n(y(t) + 4)}" class="tick" text-anchor="end">${t.toLocaleString('en-US')}</text>`;
  }
  body += `<text class="axis-label" transform="translate(12 ${n(m.top + ph / 2)}) rotate(-90)" text-anchor="middle">queries</text>`;
  o.bins.forEach((b, i) => {
    const x = m.left + i * step + (discrete ? step * 0.12 : 0.5);
    const w = discrete ? step * 0.76 : step - 1;
    const h = b.count === 0 ? 0 : Math.max(1, m.top + ph - y(b.count));
    const range = b.label ?? `${b.lo.toFixed(2)}–${b.hi.toFixed(2)}`;
    const share = total ? ` (${((b.count / total) * 100).toFixed(1)}%)` : '';
    body += `<rect class="bar" x="${n(x)}" y="${n(m.top + ph - h)}" width="${n(w)}" height="${n(h)}" fill="${color}"><title>${esc(`${range}: ${b.count.toLocaleString('en-US')} queries${share}`)}</title></rect>`;
    if (discrete && (o.bins.length <= 11 || i % 2 === 0)) {
      body += `<text x="${n(m.left + i * step + step / 2)}" y="${n(m.top + ph + 16)}" class="tick" text-anchor="middle">${esc(b.label)}</text>`;
    }
  });
  if (!discrete) {
    for (const t of [0, 0.2, 0.4, 0.6, 0.8, 1]) {
      body += `<text x="${n(xOf(t))}" y="${n(m.top + ph + 16)}" class="tick" text-anchor="middle">${t.toFixed(1)}</text>`;
    }
  }
  body += `<line x1="${m.left}" x2="${n(width - m.right)}" y1="${n(m.top + ph)}" y2="${n(m.top + ph)}" stroke="${COLORS.axis}"/>`;
  body += `<text x="${n(m.left + pw / 2)}" y="${n(height - 6)}" class="axis-label" text-anchor="middle">${esc(o.xLabel)}</text>`;
  const items: { label: string; color: string; shape?: 'dash' }[] = [];
  for (const mk of o.markers ?? []) {
    if (!Number.isFinite(mk.value)) continue;
    const x = xOf(Math.max(0, Math.min(1, mk.value)));
    const c = mk.color ?? COLORS.ink;
    body += `<line class="marker" x1="${n(x)}" x2="${n(x)}" y1="${m.top - 2}" y2="${n(m.top + ph)}" stroke="${c}" stroke-width="1.6" stroke-dasharray="4 3"><title>${esc(mk.label)}</title></line>`;
    items.push({ label: mk.label, color: c, shape: 'dash' });
  }
  if (items.length) body += legend(items, m.left, 14);
  return svgShell({ id: o.id, title: o.title, desc: o.desc, width, height }, body);
}
