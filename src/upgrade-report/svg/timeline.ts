/**
 * The versions' lifecycle from the audit trail: one lane per version, with
 * its backfilling, shadowed and active periods as bands and every event as a
 * marker (hover for who, when and why).
 */
import { parseEventDetails } from '../../versions/index.js';
import type { ReportEvent } from '../types.js';
import { COLORS, clip, esc, n, svgShell, textWidth, timeTicks } from './common.js';

export interface TimelineLane {
  key: string;
  /** Shown under the key: candidate, baseline, active... */
  role?: string;
  state: string;
  active: boolean;
  createdAt: string;
  retiredAt: string | null;
}

export type IntervalKind = 'backfilling' | 'active' | 'shadowed';

export interface LifecycleInterval {
  versionKey: string;
  kind: IntervalKind;
  start: number;
  /** null: still going on. */
  end: number | null;
}

const ms = (iso: string) => new Date(iso).getTime();

/**
 * Periods derived from the events (oldest first). An activation ends the
 * previous active period. A `rolled_back` event names either the version
 * rolled back from (then the one active before it comes back) or the one
 * rolled back to (`details.to`, or the event's own version when it is not
 * the active one).
 */
export function lifecycleIntervals(events: ReportEvent[], lanes: TimelineLane[]): LifecycleInterval[] {
  const out: LifecycleInterval[] = [];
  const open = new Map<string, LifecycleInterval>();
  const key = (v: string, k: IntervalKind) => `${k}\u0000${v}`;
  const start = (v: string, k: IntervalKind, t: number) => {
    if (open.has(key(v, k))) return;
    const iv: LifecycleInterval = { versionKey: v, kind: k, start: t, end: null };
    open.set(key(v, k), iv);
    out.push(iv);
  };
  const stop = (v: string, k: IntervalKind, t: number) => {
    const iv = open.get(key(v, k));
    if (iv) {
      iv.end = t;
      open.delete(key(v, k));
    }
  };
  const activeStack: string[] = [];
  const currentActive = () => activeStack.at(-1);
  const activate = (v: string, t: number) => {
    const cur = currentActive();
    if (cur === v) return;
    if (cur) stop(cur, 'active', t);
    const i = activeStack.indexOf(v);
    if (i >= 0) activeStack.splice(i, 1);
    activeStack.push(v);
    start(v, 'active', t);
  };
  const sorted = [...events].sort((a, b) => ms(a.at) - ms(b.at) || a.id - b.id);
  for (const e of sorted) {
    const t = ms(e.at);
    switch (e.event) {
      case 'backfill_started':
        start(e.versionKey, 'backfilling', t);
        break;
      case 'backfill_completed':
      case 'backfill_failed':
        stop(e.versionKey, 'backfilling', t);
        break;
      case 'shadow_started':
        start(e.versionKey, 'shadowed', t);
        break;
      case 'shadow_stopped':
        stop(e.versionKey, 'shadowed', t);
        break;
      case 'activated':
        activate(e.versionKey, t);
        break;
      case 'rolled_back': {
        const to = parseEventDetails('rolled_back', e.details)?.to ?? null;
        if (to && to !== currentActive()) {
          activate(to, t);
        } else if (e.versionKey === currentActive()) {
          stop(e.versionKey, 'active', t);
          activeStack.pop();
          const prev = currentActive();
          if (prev) start(prev, 'active', t);
        } else {
          activate(e.versionKey, t);
        }
        break;
      }
      case 'retired':
        for (const k of ['backfilling', 'active', 'shadowed'] as const) stop(e.versionKey, k, t);
        break;
      default:
    }
  }
  // The database has the last word on who is active now.
  for (const lane of lanes) {
    const iv = open.get(key(lane.key, 'active'));
    if (iv && !lane.active) {
      out.splice(out.indexOf(iv), 1);
      open.delete(key(lane.key, 'active'));
    }
  }
  return out;
}

interface MarkerStyle {
  color: string;
  shape: 'circle' | 'square' | 'diamond' | 'up' | 'down' | 'cross';
  label: string;
}

export const EVENT_STYLES: Record<string, MarkerStyle> = {
  registered: { color: '#64748b', shape: 'circle', label: 'registered' },
  backfill_started: { color: '#d97706', shape: 'circle', label: 'backfill started' },
  backfill_completed: { color: '#b45309', shape: 'square', label: 'backfill completed' },
  backfill_failed: { color: COLORS.fail, shape: 'square', label: 'backfill failed' },
  index_built: { color: '#0891b2', shape: 'square', label: 'index built' },
  gate_passed: { color: COLORS.pass, shape: 'diamond', label: 'gate passed' },
  gate_failed: { color: COLORS.fail, shape: 'diamond', label: 'gate failed' },
  activated: { color: '#15803d', shape: 'up', label: 'activated' },
  rolled_back: { color: '#be123c', shape: 'down', label: 'rolled back' },
  retired: { color: '#111827', shape: 'cross', label: 'retired' },
  shadow_started: { color: COLORS.shadow, shape: 'circle', label: 'shadow started' },
  shadow_stopped: { color: COLORS.shadow, shape: 'square', label: 'shadow stopped' },
  canary_recorded: { color: '#64748b', shape: 'square', label: 'canary recorded' },
  canary_checked: { color: COLORS.pass, shape: 'circle', label: 'canary checked' },
  canary_failed: { color: COLORS.fail, shape: 'cross', label: 'canary failed' },
};
const FALLBACK: MarkerStyle = { color: '#64748b', shape: 'circle', label: 'other' };

const BAND: Record<IntervalKind, { color: string; label: string }> = {
  backfilling: { color: '#fcd34d', label: 'backfilling' },
  shadowed: { color: '#c4b5fd', label: 'shadowed' },
  active: { color: '#86efac', label: 'active (serving)' },
};

function marker(s: MarkerStyle, x: number, y: number, r = 6): string {
  const a = `fill="${s.color}" stroke="#fff" stroke-width="1.5"`;
  switch (s.shape) {
    case 'circle':
      return `<circle cx="${n(x)}" cy="${n(y)}" r="${n(r * 0.9)}" ${a}/>`;
    case 'square':
      return `<rect x="${n(x - r * 0.8)}" y="${n(y - r * 0.8)}" width="${n(r * 1.6)}" height="${n(r * 1.6)}" ${a}/>`;
    case 'diamond':
      return `<path d="M${n(x)} ${n(y - r * 1.1)}L${n(x + r * 1.1)} ${n(y)}L${n(x)} ${n(y + r * 1.1)}L${n(x - r * 1.1)} ${n(y)}Z" ${a}/>`;
    case 'up':
      return `<path d="M${n(x)} ${n(y - r * 1.1)}L${n(x + r)} ${n(y + r * 0.8)}L${n(x - r)} ${n(y + r * 0.8)}Z" ${a}/>`;
    case 'down':
      return `<path d="M${n(x)} ${n(y + r * 1.1)}L${n(x + r)} ${n(y - r * 0.8)}L${n(x - r)} ${n(y - r * 0.8)}Z" ${a}/>`;
    case 'cross':
      return `<path d="M${n(x - r * 0.8)} ${n(y - r * 0.8)}L${n(x + r * 0.8)} ${n(y + r * 0.8)}M${n(x + r * 0.8)} ${n(y - r * 0.8)}L${n(x - r * 0.8)} ${n(y + r * 0.8)}" stroke="${s.color}" stroke-width="2.6" fill="none"/>`;
  }
}

export interface TimelineOptions {
  id: string;
  title: string;
  desc: string;
  lanes: TimelineLane[];
  events: ReportEvent[];
  width?: number;
}

export function eventTooltip(e: ReportEvent): string {
  const when = e.at.replace('T', ' ').slice(0, 19) + ' UTC';
  return `${e.versionKey} ${e.event.replace(/_/g, ' ')}${e.forced ? ' (forced)' : ''} — ${when} by ${e.actor}${e.reason ? `: ${e.reason}` : ''}`;
}

export function timelineChart(o: TimelineOptions): string {
  const width = o.width ?? 960;
  const laneH = 54;
  const labelW = 150;
  const m = { top: 58, right: 24, bottom: 34, left: labelW };
  const height = m.top + m.bottom + laneH * Math.max(1, o.lanes.length);
  const pw = width - m.left - m.right;
  const times = o.events.map((e) => ms(e.at));
  for (const l of o.lanes) {
    times.push(ms(l.createdAt));
    if (l.retiredAt) times.push(ms(l.retiredAt));
  }
  let t0 = Math.min(...times);
  let t1 = Math.max(...times);
  if (!Number.isFinite(t0)) t0 = t1 = Date.now();
  if (t1 - t0 < 60_000) {
    const mid = (t0 + t1) / 2;
    t0 = mid - 30_000;
    t1 = mid + 30_000;
  }
  const pad = (t1 - t0) * 0.04;
  t0 -= pad;
  t1 += pad;
  const x = (t: number) => m.left + ((t - t0) / (t1 - t0)) * pw;
  const intervals = lifecycleIntervals(o.events, o.lanes);
  let body = '';
  const tt = timeTicks(t0, t1, Math.max(3, Math.floor(pw / 120)));
  for (const t of tt.ticks) {
    body += `<line x1="${n(x(t))}" x2="${n(x(t))}" y1="${m.top - 6}" y2="${n(height - m.bottom)}" stroke="${COLORS.grid}"/>`;
    body += `<text x="${n(x(t))}" y="${n(height - m.bottom + 16)}" class="tick" text-anchor="middle">${esc(tt.format(t))}</text>`;
  }
  body += `<text x="${n(width - m.right)}" y="${n(height - 2)}" class="axis-label" text-anchor="end">time (UTC)</text>`;
  o.lanes.forEach((lane, i) => {
    const cy = m.top + i * laneH + laneH / 2;
    if (i % 2 === 0) body += `<rect x="0" y="${n(cy - laneH / 2)}" width="${width}" height="${laneH}" fill="#f8fafc"/>`;
    body += `<text x="10" y="${n(cy - 2)}" class="lane-key">${esc(clip(lane.key, 18))}<title>${esc(lane.key)}</title></text>`;
    body += `<text x="10" y="${n(cy + 13)}" class="lane-role">${esc(clip([lane.role, lane.active ? 'active' : lane.state].filter(Boolean).join(' · '), 24))}</text>`;
    const from = x(ms(lane.createdAt));
    const to = lane.retiredAt ? x(ms(lane.retiredAt)) : x(t1);
    body += `<line x1="${n(from)}" x2="${n(to)}" y1="${n(cy)}" y2="${n(cy)}" stroke="#cbd5e1" stroke-width="2"${lane.retiredAt ? '' : ' stroke-dasharray="1 0"'}/>`;
    for (const iv of intervals.filter((v) => v.versionKey === lane.key)) {
      const b = BAND[iv.kind];
      const x0 = x(iv.start);
      const x1 = iv.end === null ? x(t1) : x(iv.end);
      const w = Math.max(3, x1 - x0);
      const [yy, hh] = iv.kind === 'shadowed' ? [cy + 8, 6] : [cy - 7, 14];
      const tip = `${lane.key} ${b.label}: ${new Date(iv.start).toISOString().replace('T', ' ').slice(0, 19)} UTC → ${iv.end === null ? 'now' : new Date(iv.end).toISOString().replace('T', ' ').slice(0, 19) + ' UTC'}`;
      body += `<rect class="band band-${iv.kind}" x="${n(x0)}" y="${n(yy)}" width="${n(w)}" height="${hh}" rx="3" fill="${b.color}"><title>${esc(tip)}</title></rect>`;
    }
    // Events closer than a marker's width are staggered above and below the lane line.
    const lastX = [-Infinity, -Infinity, -Infinity];
    const rowOffset = [0, -13, 13];
    const laneEvents = o.events
      .filter((ev) => ev.versionKey === lane.key)
      .sort((a, b) => ms(a.at) - ms(b.at) || a.id - b.id);
    for (const e of laneEvents) {
      const s = EVENT_STYLES[e.event] ?? FALLBACK;
      const ex = x(ms(e.at));
      let row = lastX.findIndex((lx) => ex - lx >= 12);
      if (row < 0) row = lastX.indexOf(Math.min(...lastX));
      lastX[row] = ex;
      const ey = cy + rowOffset[row]!;
      body += `<g class="event" data-event="${esc(e.event)}"><title>${esc(eventTooltip(e))}</title>`;
      if (row)
        body += `<line x1="${n(ex)}" x2="${n(ex)}" y1="${n(cy)}" y2="${n(ey)}" stroke="#94a3b8" stroke-width="1"/>`;
      body += marker(s, ex, ey);
      if (e.forced)
        body += `<circle cx="${n(ex)}" cy="${n(ey)}" r="10" fill="none" stroke="${COLORS.fail}" stroke-width="1.5" stroke-dasharray="2 2"/>`;
      body += '</g>';
    }
  });
  // Legend: bands, then the event kinds that occur.
  let leg = '';
  let lx = m.left;
  let ly = 16;
  const place = (w: number) => {
    if (lx + w > width - m.right) {
      lx = m.left;
      ly += 20;
    }
    const at = lx;
    lx += w;
    return at;
  };
  for (const k of ['backfilling', 'shadowed', 'active'] as const) {
    const b = BAND[k];
    const at = place(24 + textWidth(b.label, 12) + 16);
    leg += `<rect x="${n(at)}" y="${n(ly - 9)}" width="18" height="10" rx="3" fill="${b.color}"/><text x="${n(at + 24)}" y="${n(ly)}" class="legend">${esc(b.label)}</text>`;
  }
  const kinds = Object.keys(EVENT_STYLES).filter((k) => o.events.some((e) => e.event === k));
  for (const k of kinds) {
    const s = EVENT_STYLES[k]!;
    const at = place(20 + textWidth(s.label, 12) + 14);
    leg += marker(s, at + 6, ly - 4, 5) + `<text x="${n(at + 16)}" y="${n(ly)}" class="legend">${esc(s.label)}</text>`;
  }
  if (o.events.some((e) => e.forced)) {
    const at = place(20 + textWidth('forced', 12) + 14);
    leg += `<circle cx="${n(at + 6)}" cy="${n(ly - 4)}" r="6" fill="none" stroke="${COLORS.fail}" stroke-width="1.5" stroke-dasharray="2 2"/><text x="${n(at + 16)}" y="${n(ly)}" class="legend">forced</text>`;
  }
  // Grow the top margin when the legend wrapped.
  const extra = Math.max(0, ly - 16 - 20);
  const shifted = leg + (extra ? `<g transform="translate(0 ${n(extra)})">${body}</g>` : body);
  return svgShell({ id: o.id, title: o.title, desc: o.desc, width, height: height + extra }, shifted);
}
