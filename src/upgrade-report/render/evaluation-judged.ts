/**
 * The judged coverage of the evaluation section: Judged@K from the judged set
 * alone and with the pooled judgments, per version and segment; which share
 * of each version's top K came from each label source; each judge's κ. Runs
 * recorded before judgments existed show only a note when the candidate's
 * top 10 is mostly unjudged.
 */
import { OVERALL_LABEL } from '../evaluation/table.js';
import { COLORS, esc, fmt, fmtInt, fmtSigned } from '../svg/common.js';
import { shareBar } from '../svg/share-bar.js';
import type { EvaluationLabels, EvaluationSection, JudgeTrust, SourceShare, VersionCoverage } from '../types.js';
import { code, date, segTitle } from './common.js';

/** Below this Judged@K, most of the top K is unjudged and the measures count it as not relevant. */
export const LOW_JUDGED = 0.5;

const JUDGE_COLORS = [COLORS.shadow, COLORS.warn, '#0891b2', '#db2777', '#65a30d', '#9333ea'];
const pct = (x: number) => `${(x * 100).toFixed(1)}%`;

interface Side {
  key: string;
  role: 'candidate' | 'baseline';
  c: VersionCoverage;
}

function sides(e: EvaluationSection, l: EvaluationLabels): Side[] {
  const out: Side[] = [{ key: e.candidateKey, role: 'candidate', c: l.candidate }];
  if (l.baseline) out.push({ key: e.baselineKey ?? 'baseline', role: 'baseline', c: l.baseline });
  return out;
}

function sourceLabel(s: Pick<SourceShare, 'source' | 'kind'>): string {
  return s.kind === 'judged-set' ? 'judged set' : s.kind === 'human' ? 'human labels' : s.source;
}

/** Every source of either version, in display order, with its colour. */
function sourceColors(list: Side[]): Map<string, { kind: SourceShare['kind']; color: string }> {
  const out = new Map<string, { kind: SourceShare['kind']; color: string }>();
  let judge = 0;
  const all = list.flatMap((s) => s.c.sources);
  for (const kind of ['judged-set', 'human', 'judge', 'unjudged'] as const) {
    for (const s of all) {
      if (s.kind !== kind || out.has(s.source)) continue;
      const color =
        kind === 'judged-set'
          ? COLORS.pass
          : kind === 'human'
            ? COLORS.candidate
            : kind === 'unjudged'
              ? '#cbd5e1'
              : JUDGE_COLORS[judge++ % JUDGE_COLORS.length]!;
      out.set(s.source, { kind, color });
    }
  }
  return out;
}

function coverageTable(list: Side[]): string {
  const k = list[0]!.c.k;
  const names = [...new Set(list.flatMap((s) => s.c.segments.map((x) => x.segment)))].sort();
  // A single segment holds every query: its row would repeat the overall one.
  const rows: string[] = [OVERALL_LABEL, ...(names.length > 1 ? names : [])];
  const head1 = list
    .map((s) => `<th class="seg" colspan="3">${esc(s.key)} <span class="muted">${s.role}</span></th>`)
    .join('');
  const head2 = list
    .map(() => '<th class="num seg">judged set</th><th class="num">with judgments</th><th class="num">gain</th>')
    .join('');
  const body = rows
    .map((seg) => {
      const cells = list
        .map((s) => {
          const v = seg === OVERALL_LABEL ? s.c : s.c.segments.find((x) => x.segment === seg);
          if (!v) return '<td class="num muted seg">–</td><td class="num muted">–</td><td class="num muted">–</td>';
          const tip = ` title="${esc(`Judged@${k}, ${segTitle(seg)}, ${s.key}: ${fmt(v.before)} from the judged set, ${fmt(v.after)} with the pooled judgments`)}"`;
          return `<td class="num seg"${tip}>${fmt(v.before)}</td><td class="num"${tip}><strong>${fmt(v.after)}</strong></td><td class="num"${tip}>${fmtSigned(v.after - v.before)}</td>`;
        })
        .join('');
      return `<tr${seg === OVERALL_LABEL ? ' class="focus"' : ''}><th scope="row">${esc(segTitle(seg))}</th>${cells}</tr>`;
    })
    .join('');
  return `<div class="table-wrap"><table class="metrics coverage"><thead><tr><th rowspan="2">Judged@${k}</th>${head1}</tr><tr>${head2}</tr></thead><tbody>${body}</tbody></table></div>`;
}

function sourcesTable(list: Side[]): string {
  const k = list[0]!.c.k;
  const colors = sourceColors(list);
  const bars = list
    .map((s, i) => {
      const parts = [...colors].map(([source, c]) => ({
        label: sourceLabel({ source, kind: c.kind }),
        share: s.c.sources.find((x) => x.source === source)?.share ?? 0,
        color: c.color,
      }));
      return `<td class="seg">${shareBar({ id: `share-${i}-${s.role}`, title: `Label sources of the top ${k} of ${s.key} (${s.role})`, parts, width: 160 })}</td>`;
    })
    .join('');
  const rows = [...colors]
    .map(([source, c]) => {
      const name = c.kind === 'judge' ? code(source) : esc(sourceLabel({ source, kind: c.kind }));
      const cells = list
        .map((s) => {
          const share = s.c.sources.find((x) => x.source === source)?.share;
          return `<td class="num seg">${share === undefined ? '<span class="muted">–</span>' : pct(share)}</td>`;
        })
        .join('');
      return `<tr><th scope="row" style="white-space:normal"><span class="dot" style="background:${c.color}"></span>${name}</th>${cells}</tr>`;
    })
    .join('');
  const head = list.map((s) => `<th class="num seg">${esc(s.key)} <span class="muted">${s.role}</span></th>`).join('');
  return `<div class="table-wrap"><table class="metrics sources"><thead><tr><th>Label source of the top ${k}</th>${head}</tr></thead><tbody><tr class="focus"><th scope="row">share</th>${bars}</tr>${rows}</tbody></table></div>`;
}

function judgesTable(judges: JudgeTrust[]): string {
  if (!judges.length)
    return '<p class="small muted">No judge labels reached the top results: only the judged set and human labels scored this run.</p>';
  const rows = judges
    .map((j) => {
      const c = j.calibration;
      const kappa =
        j.kappa === null ? '<span class="muted nowrap">not calibrated</span>' : `<strong>${fmt(j.kappa)}</strong>`;
      const cal = c
        ? `<td class="num">${fmt(c.kappa)}</td><td class="num">${fmt(c.accuracy)}</td><td class="num">${fmt(c.kendallTau)}</td><td class="num">${fmtInt(c.pairs)}</td><td>${esc(c.judgedSet)}<br><span class="muted small">${date(c.createdAt)}</span></td>`
        : `<td class="num muted">–</td><td class="num muted">–</td><td class="num muted">–</td><td class="num muted">–</td><td class="muted">never calibrated</td>`;
      return `<tr><td>${code(j.judge)}</td><td class="num">${fmtInt(j.labels)}</td><td class="num">${kappa}</td>${cal}</tr>`;
    })
    .join('');
  return `<p class="small muted">How far each judge agrees with people: Cohen's κ (quadratic-weighted) as the run recorded it, and the judge's latest ${code('embctl judge calibrate')} against a human-labelled set (κ, accuracy, and Kendall τ of the system rankings). Gates can require a minimum κ.</p>
<div class="table-wrap"><table class="judges"><thead><tr><th>Judge</th><th class="num">Labels</th><th class="num">κ (this run)</th><th class="num">κ (latest)</th><th class="num">Accuracy</th><th class="num">Kendall τ</th><th class="num">Pairs</th><th>Calibrated on</th></tr></thead><tbody>${rows}</tbody></table></div>`;
}

function unjudgedNote(e: EvaluationSection, k: number, judged: number): string {
  const cmd = `embctl judge --version ${e.candidateKey}${e.baselineKey ? ` --baseline ${e.baselineKey}` : ''} --judge <spec>`;
  return `<p class="small"><strong class="ko">Judged@${k} of ${esc(e.candidateKey)} is ${fmt(judged)}:</strong> most of its top ${k} is unjudged, and the measures above count unjudged results as not relevant. Judge them with ${code(cmd)}, then evaluate again.</p>`;
}

/** The judged coverage part of the evaluation section ('' for an older run whose top 10 is mostly judged). */
export function judgedCoverage(e: EvaluationSection): string {
  const l = e.labels;
  if (!l) {
    const overall = e.segments.find((s) => s.segment === OVERALL_LABEL);
    const judged = overall?.metrics.find((m) => m.metric === 'Judged@10')?.candidate ?? null;
    return judged !== null && judged < LOW_JUDGED ? unjudgedNote(e, 10, judged) : '';
  }
  const list = sides(e, l);
  const k = l.candidate.k;
  const allowed =
    l.allowedJudges === null
      ? 'every judge'
      : l.allowedJudges.length
        ? l.allowedJudges.map(code).join(', ')
        : 'no judge (the judged set only)';
  const how = l.judgedOnly
    ? ` Measures were computed over judged documents only (${code('--judged-only')}, trec_eval's ${code('-J')}).`
    : ' Unjudged results count as not relevant.';
  return `<h3>Judged coverage</h3>
<p class="small muted">Judged@${k}: the share of each version's top ${k} that has a relevance label, averaged over queries — from the judged set alone, and with the pooled judgments (labels allowed from ${allowed}).${how}</p>
${coverageTable(list)}
${l.candidate.after < LOW_JUDGED ? unjudgedNote(e, k, l.candidate.after) : ''}
${sourcesTable(list)}
${judgesTable(l.judges)}`;
}
