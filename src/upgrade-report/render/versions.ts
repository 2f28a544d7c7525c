/** The versions table, the lifecycle timeline and the audit trail. */
import { esc, fmtInt } from '../svg/common.js';
import { eventTooltip, timelineChart, EVENT_STYLES, type TimelineLane } from '../svg/timeline.js';
import type { ReportModel, ReportVersion } from '../types.js';
import { code, date, figure, FULL, truncate } from './common.js';

function roleOf(model: ReportModel, v: ReportVersion): string[] {
  const roles: string[] = [];
  if (model.candidate?.id === v.id) roles.push('candidate');
  if (model.baseline?.id === v.id) roles.push('baseline');
  return roles;
}

export function versionsSection(model: ReportModel): string {
  const rows = model.versions
    .map((v) => {
      const roles = roleOf(model, v);
      const tags = [
        ...roles.map((r) => `<span class="tag tag-${r}">${r}</span>`),
        v.active ? '<span class="tag tag-active">active</span>' : '',
      ].join('');
      return (
        `<tr${roles.length ? ' class="focus"' : ''}><td><strong>${esc(v.key)}</strong> ${tags}</td><td>${code(v.encoderSpec)}</td>` +
        `<td class="num">${fmtInt(v.dimensions)}</td><td>${esc(v.metric)}</td><td>${esc(v.indexKind)}${v.indexKind === 'none' ? '' : ` on ${esc(v.indexStorage)}`}</td>` +
        `<td><span class="state state-${esc(v.state)}">${esc(v.state)}</span></td><td>${date(v.createdAt)}</td></tr>`
      );
    })
    .join('');
  const table = model.versions.length
    ? `<div class="table-wrap"><table><thead><tr><th>Version</th><th>Encoder</th><th class="num">Dims</th><th>Metric</th><th>Index</th><th>State</th><th>Registered</th></tr></thead><tbody>${rows}</tbody></table></div>`
    : '';
  const laneKeys = new Set(model.events.map((e) => e.versionKey));
  if (model.candidate) laneKeys.add(model.candidate.key);
  if (model.baseline) laneKeys.add(model.baseline.key);
  const lanes: TimelineLane[] = model.versions
    .filter((v) => laneKeys.has(v.key))
    .map((v) => ({
      key: v.key,
      role: roleOf(model, v).join(', ') || undefined,
      state: v.state,
      active: v.active,
      createdAt: v.createdAt,
      retiredAt: v.retiredAt,
    }));
  const timeline = model.events.length
    ? figure(
        'timeline',
        'Lifecycle of each version from the audit trail (version_events). Bands: backfilling, shadowed and serving periods; markers: events (hover for who, when and why).',
        {
          svg: timelineChart({
            id: 'chart-timeline',
            title: 'Version lifecycle timeline',
            desc: `${model.events.length} audit events for ${lanes.map((l) => l.key).join(', ')}, from ${model.events[0]!.at} to ${model.events.at(-1)!.at}.`,
            lanes,
            events: model.events,
            width: FULL,
          }),
        },
      )
    : figure('timeline', 'Lifecycle of each version from the audit trail.', {
        empty: `No events yet — register a version with ${code('embctl versions register v1 --encoder hash:words-256')}, then ${code('embctl backfill v1')}.`,
      });
  const audit = model.events.length
    ? `<details${model.events.length <= 40 ? ' open' : ''}><summary>Audit trail (${model.events.length} event${model.events.length === 1 ? '' : 's'})</summary>
<div class="table-wrap"><table class="audit"><thead><tr><th>When (UTC)</th><th>Version</th><th>Event</th><th>Actor</th><th>Reason / details</th></tr></thead><tbody>${model.events
        .map((e) => {
          const style = EVENT_STYLES[e.event];
          const detail = Object.keys(e.details).length
            ? `<span class="details">${esc(truncate(JSON.stringify(e.details), 160))}</span>`
            : '';
          return (
            `<tr title="${esc(eventTooltip(e))}"><td class="nowrap">${esc(e.at.replace('T', ' ').slice(0, 19))}</td><td>${esc(e.versionKey)}</td>` +
            `<td class="nowrap"><span class="dot" style="background:${style?.color ?? '#64748b'}"></span>${esc(e.event.replace(/_/g, ' '))}${e.forced ? ' <span class="tag tag-forced">forced</span>' : ''}</td>` +
            `<td>${esc(e.actor)}</td><td>${e.reason ? esc(e.reason) : ''}${e.reason && detail ? '<br>' : ''}${detail}</td></tr>`
          );
        })
        .join('')}</tbody></table></div></details>`
    : '';
  return `<section id="versions">
<h2>Versions and lifecycle</h2>
<p class="lead">Every encoder version registered in this database; the candidate and its baseline are highlighted. The timeline below is drawn from the audit trail, so it shows who moved which version through backfill, gates, shadowing and cut-over, and when.</p>
${table}
${timeline}
${audit}
</section>`;
}
