/** One horizontal bar split into shares (e.g. where the labels of a top 10 came from), each part with a tooltip. */
import { esc, n, svgShell } from './common.js';

export interface SharePart {
  label: string;
  /** 0..1; parts are drawn left to right in the given order. */
  share: number;
  color: string;
}

export interface ShareBarOptions {
  id: string;
  title: string;
  parts: SharePart[];
  width?: number;
  height?: number;
}

const pct = (x: number) => `${(x * 100).toFixed(1)}%`;

export function shareBar(o: ShareBarOptions): string {
  const width = o.width ?? 280;
  const height = o.height ?? 16;
  const total = o.parts.reduce((a, p) => a + Math.max(0, p.share), 0) || 1;
  let x = 0;
  let body = `<rect x="0" y="0" width="${n(width)}" height="${n(height)}" rx="3" fill="#f1f5f9"/>`;
  for (const p of o.parts) {
    const w = (Math.max(0, p.share) / total) * width;
    if (w <= 0) continue;
    body += `<rect class="bar" x="${n(x)}" y="0" width="${n(w)}" height="${n(height)}" fill="${p.color}"><title>${esc(`${p.label}: ${pct(p.share)}`)}</title></rect>`;
    x += w;
  }
  const desc = o.parts.map((p) => `${p.label}: ${pct(p.share)}`).join('; ');
  return svgShell({ id: o.id, title: o.title, desc, width, height }, body);
}
