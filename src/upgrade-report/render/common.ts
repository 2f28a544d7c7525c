/** What every section of the report shares: the figure frame, chart widths, and small formatters of HTML. */
import { OVERALL_LABEL } from '../evaluation/table.js';
import { esc } from '../svg/common.js';

/** The names of every chart figure the report contains (`<figure data-chart="…">`). */
export const CHART_NAMES = [
  'timeline',
  'eval-segments',
  'eval-delta',
  'versions-tradeoff',
  'shadow-overlap',
  'shadow-rbo',
  'shadow-over-time',
  'latency',
  'backfill-cost',
  'backfill-duration',
] as const;
export type ChartName = (typeof CHART_NAMES)[number];

type Content = { svg: string } | { empty: string };

/** Chart widths in SVG units, matching their width on a desktop page so text renders at its nominal size. */
export const FULL = 980;
export const HALF = 470;

/** A chart in its figure; `empty` is HTML (already escaped) explaining how to get data. */
export function figure(name: ChartName, caption: string, content: Content): string {
  const isEmpty = 'empty' in content;
  const inner = isEmpty
    ? `<div class="empty" role="note"><span class="empty-icon" aria-hidden="true">∅</span><div>${content.empty}</div></div>`
    : content.svg;
  return `<figure class="chart-figure" data-chart="${name}"${isEmpty ? ' data-empty="true"' : ''}>${inner}<figcaption>${caption}</figcaption></figure>`;
}

export const code = (s: string) => `<code>${esc(s)}</code>`;
export const date = (iso: string | null | undefined) => (iso ? esc(iso.replace('T', ' ').slice(0, 19)) + ' UTC' : '–');

export function truncate(s: string, max: number): string {
  return s.length <= max ? s : s.slice(0, max - 1) + '…';
}

/** A p-value: three decimals, or scientific notation below 0.001 (as `embctl evaluate` prints it). */
export function fmtP(p: number | null | undefined): string {
  if (p === null || p === undefined || !Number.isFinite(p)) return '–';
  return p < 0.001 ? p.toExponential(1) : p.toFixed(3);
}

export const segTitle = (segment: string) => (segment === OVERALL_LABEL ? 'overall' : segment);
