/** Shared pieces of the inline SVG charts: escaping, number formats, ticks, the accessible <svg> shell. */

const ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

/** Escape text for HTML/SVG content and attribute values. Every string from the database goes through this. */
export function esc(value: unknown): string {
  return String(value ?? '').replace(/[&<>"']/g, (c) => ESCAPES[c]!);
}

/** A number for SVG coordinates: finite, two decimals at most. */
export function n(x: number): string {
  if (!Number.isFinite(x)) return '0';
  return String(Math.round(x * 100) / 100);
}

export function fmt(x: number | null | undefined, digits = 3): string {
  if (x === null || x === undefined || !Number.isFinite(x)) return '–';
  return x.toFixed(digits);
}

export function fmtSigned(x: number | null | undefined, digits = 3): string {
  if (x === null || x === undefined || !Number.isFinite(x)) return '–';
  return `${x >= 0 ? '+' : '−'}${Math.abs(x).toFixed(digits)}`;
}

export function fmtInt(x: number | null | undefined): string {
  if (x === null || x === undefined || !Number.isFinite(x)) return '–';
  return Math.round(x).toLocaleString('en-US');
}

export function fmtUsd(x: number | null | undefined): string {
  if (x === null || x === undefined || !Number.isFinite(x)) return '–';
  if (x === 0) return '$0';
  if (x < 0.01) return `$${x.toFixed(4)}`;
  if (x < 100) return `$${x.toFixed(2)}`;
  return `$${Math.round(x).toLocaleString('en-US')}`;
}

export function fmtDuration(seconds: number | null | undefined): string {
  if (seconds === null || seconds === undefined || !Number.isFinite(seconds)) return '–';
  const s = Math.max(0, seconds);
  if (s < 1) return `${Math.round(s * 1000)} ms`;
  if (s < 60) return `${s.toFixed(s < 10 ? 1 : 0)} s`;
  if (s < 600) return `${Math.floor(s / 60)} min${Math.round(s % 60) ? ` ${Math.round(s % 60)} s` : ''}`;
  if (s < 3600) return `${Math.round(s / 60)} min`;
  if (s < 86400) return `${Math.floor(s / 3600)} h ${Math.round((s % 3600) / 60)} min`;
  return `${Math.floor(s / 86400)} d ${Math.round((s % 86400) / 3600)} h`;
}

export function fmtMs(x: number | null | undefined): string {
  if (x === null || x === undefined || !Number.isFinite(x)) return '–';
  return x < 10 ? `${x.toFixed(2)} ms` : x < 100 ? `${x.toFixed(1)} ms` : `${Math.round(x)} ms`;
}

const DURATION_STEPS = [
  0.1, 0.2, 0.5, 1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 10800, 21600, 43200, 86400, 172800,
  604800,
];

/** Round duration ticks (seconds) from 0 to at least `max`, with a compact label ("30 min", "2 h"). */
export function durationTicks(max: number, count = 5): { ticks: number[]; format: (s: number) => string } {
  const step = DURATION_STEPS.find((st) => max / st <= count) ?? DURATION_STEPS.at(-1)!;
  const ticks: number[] = [];
  for (let t = 0; ticks.length < 40; t += step) {
    ticks.push(t);
    if (t >= max) break;
  }
  const format = (t: number) => {
    if (t === 0) return '0';
    if (step < 1) return `${t.toFixed(1)} s`;
    if (step < 60) return `${Math.round(t)} s`;
    if (step < 3600) return `${Math.round(t / 60)} min`;
    if (step < 86400) return `${+(t / 3600).toFixed(1)} h`;
    return `${+(t / 86400).toFixed(1)} d`;
  };
  return { ticks, format };
}

/** "Nice" round tick values covering [min, max] (about `count` of them). */
export function niceTicks(min: number, max: number, count = 5): number[] {
  if (!Number.isFinite(min) || !Number.isFinite(max)) return [0];
  if (max < min) [min, max] = [max, min];
  if (max === min) {
    if (max === 0) return [0, 1];
    min = Math.min(0, min);
    max = Math.max(0, max) || 1;
  }
  const step = niceStep((max - min) / Math.max(1, count));
  const start = Math.floor(min / step + 1e-9) * step;
  const ticks: number[] = [];
  for (let v = start; v <= max + step * 0.5 + 1e-12 && ticks.length < 50; v += step)
    ticks.push(+(Math.round(v / step) * step).toFixed(10));
  if (ticks[ticks.length - 1]! < max - 1e-12) ticks.push(+(ticks[ticks.length - 1]! + step).toFixed(10));
  return ticks;
}

export function niceStep(raw: number): number {
  if (!(raw > 0)) return 1;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const f = raw / mag;
  return (f <= 1 ? 1 : f <= 2 ? 2 : f <= 2.5 ? 2.5 : f <= 5 ? 5 : 10) * mag;
}

/** Decimals needed to print the ticks distinctly. */
export function tickDigits(ticks: number[]): number {
  const step = ticks.length > 1 ? Math.abs(ticks[1]! - ticks[0]!) : 1;
  return step >= 1 ? 0 : Math.min(4, Math.ceil(-Math.log10(step) - 1e-9));
}

const TIME_STEPS = [
  1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 10800, 21600, 43200, 86400, 172800, 604800, 1209600,
  2592000, 7776000, 31536000,
].map((s) => s * 1000);

/** Round time ticks (UTC) over [t0, t1] in ms, with a formatter suited to the span. */
export function timeTicks(t0: number, t1: number, count = 6): { ticks: number[]; format: (t: number) => string } {
  const span = Math.max(1, t1 - t0);
  const step = TIME_STEPS.find((s) => span / s <= count) ?? TIME_STEPS.at(-1)!;
  const ticks: number[] = [];
  for (let t = Math.ceil(t0 / step) * step; t <= t1 && ticks.length < 40; t += step) ticks.push(t);
  const iso = (t: number) => new Date(t).toISOString();
  const months = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
  const day = (t: number) => {
    const d = new Date(t);
    return `${months[d.getUTCMonth()]} ${d.getUTCDate()}`;
  };
  let format: (t: number) => string;
  if (step < 60_000) format = (t) => iso(t).slice(11, 19);
  else if (step < 86_400_000 && span < 86_400_000) format = (t) => iso(t).slice(11, 16);
  else if (step < 86_400_000) format = (t) => `${day(t)} ${iso(t).slice(11, 16)}`;
  else format = day;
  return { ticks, format };
}

export interface SvgShell {
  /** Unique prefix for element ids (title/desc). */
  id: string;
  title: string;
  desc: string;
  width: number;
  height: number;
}

/** The accessible <svg>: role=img, labelled by its <title> and described by its <desc>. */
export function svgShell(s: SvgShell, body: string): string {
  const id = s.id.replace(/[^A-Za-z0-9_-]/g, '-');
  return (
    `<svg xmlns="http://www.w3.org/2000/svg" class="chart" viewBox="0 0 ${n(s.width)} ${n(s.height)}" ` +
    `width="${n(s.width)}" height="${n(s.height)}" role="img" aria-labelledby="${id}-title ${id}-desc" preserveAspectRatio="xMinYMin meet">` +
    `<title id="${id}-title">${esc(s.title)}</title><desc id="${id}-desc">${esc(s.desc)}</desc>${body}</svg>`
  );
}

/** A small colour key: swatches with labels, laid out left to right. */
export function legend(
  items: { label: string; color: string; shape?: 'rect' | 'line' | 'dash' | 'whisker' }[],
  x: number,
  y: number,
): string {
  let cx = x;
  let out = '';
  for (const it of items) {
    const shape = it.shape ?? 'rect';
    if (shape === 'rect')
      out += `<rect x="${n(cx)}" y="${n(y - 9)}" width="12" height="12" rx="2" fill="${it.color}"/>`;
    else if (shape === 'whisker')
      out += `<path d="M${n(cx + 6)} ${n(y - 10)}v14M${n(cx + 2)} ${n(y - 10)}h8M${n(cx + 2)} ${n(y + 4)}h8" stroke="${it.color}" stroke-width="1.5" fill="none"/>`;
    else
      out += `<line x1="${n(cx)}" x2="${n(cx + 16)}" y1="${n(y - 3)}" y2="${n(y - 3)}" stroke="${it.color}" stroke-width="2.5"${shape === 'dash' ? ' stroke-dasharray="4 3"' : ''}/>`;
    const w = shape === 'rect' || shape === 'whisker' ? 12 : 16;
    out += `<text x="${n(cx + w + 5)}" y="${n(y + 1)}" class="legend">${esc(it.label)}</text>`;
    cx += w + 5 + textWidth(it.label, 12) + 18;
  }
  return out;
}

/** Rough width of a label in px at a font size (for layout without a DOM). */
export function textWidth(text: string, size: number): number {
  return [...text].length * size * 0.56;
}

/** Shorten a label to at most `max` characters. */
export function clip(text: string, max: number): string {
  const chars = [...text];
  return chars.length <= max ? text : chars.slice(0, max - 1).join('') + '…';
}

export const COLORS = {
  candidate: '#2563eb',
  baseline: '#94a3b8',
  primary: '#64748b',
  pass: '#16a34a',
  fail: '#dc2626',
  warn: '#d97706',
  neutral: '#64748b',
  shadow: '#7c3aed',
  grid: '#e5e7eb',
  axis: '#9ca3af',
  ink: '#111827',
  muted: '#6b7280',
};
