/** The backfill section: what embedding each version cost, and how long it took. */
import { horizontalBarChart } from '../svg/bar-chart.js';
import { COLORS, durationTicks, esc, fmtDuration, fmtInt, fmtUsd } from '../svg/common.js';
import type { ReportModel } from '../types.js';
import { code, figure, HALF } from './common.js';

export function backfillSection(model: ReportModel): string {
  const rows = model.backfill;
  const lead =
    '<p class="lead">What it cost to embed every live chunk with each version: texts sent to the encoder, vectors reused from a version with the same encoder identity, tokens, provider requests, and time from the first worker start to the last finish.</p>';
  const key = model.candidate?.key ?? '<key>';
  if (!rows.length) {
    const empty = `No backfill runs yet — run ${code(`embctl backfill ${key}`)}.`;
    return `<section id="backfill"><h2>Backfill cost and duration</h2>${lead}<div class="grid2">${figure('backfill-cost', 'Encoder cost per version.', { empty })}${figure('backfill-duration', 'Backfill duration per version.', { empty })}</div></section>`;
  }
  const color = (k: string) =>
    k === model.candidate?.key ? COLORS.candidate : k === model.baseline?.key ? COLORS.baseline : '#cbd5e1';
  const table = `<div class="table-wrap"><table><thead><tr><th>Version</th><th>Runs</th><th>Status</th><th class="num">Embedded</th><th class="num">Reused</th><th class="num">Tokens</th><th class="num">Requests</th><th class="num">Rate-limited</th><th class="num">Cost</th><th class="num">Wall time</th><th class="num">Worker time</th></tr></thead><tbody>${rows
    .map(
      (r) =>
        `<tr${r.versionKey === model.candidate?.key || r.versionKey === model.baseline?.key ? ' class="focus"' : ''}>` +
        `<td><strong>${esc(r.versionKey)}</strong></td><td>${fmtInt(r.runs)}${r.failedRuns ? ` <span class="muted">(${r.failedRuns} failed)</span>` : ''}</td><td><span class="state state-${r.running ? 'backfilling' : esc(r.lastStatus)}">${r.running ? 'running' : esc(r.lastStatus)}</span></td>` +
        `<td class="num">${fmtInt(r.embedded)}</td><td class="num">${fmtInt(r.reused)}</td><td class="num">${fmtInt(r.tokens)}</td><td class="num">${fmtInt(r.encoderRequests)}</td><td class="num">${fmtInt(r.rateLimited)}</td>` +
        `<td class="num">${fmtUsd(r.costUsd)}</td><td class="num">${fmtDuration(r.wallSeconds)}</td><td class="num">${fmtDuration(r.workerSeconds)}</td></tr>`,
    )
    .join('')}</tbody></table></div>`;
  const cost = figure(
    'backfill-cost',
    'Encoder cost per version in US dollars (provider pricing × tokens; built-in and local encoders cost $0).',
    {
      svg: horizontalBarChart({
        id: 'chart-backfill-cost',
        title: 'Backfill cost per version',
        desc: rows.map((r) => `${r.versionKey}: ${fmtUsd(r.costUsd)}`).join('; '),
        rows: rows.map((r) => ({
          label: r.versionKey,
          value: r.costUsd,
          color: color(r.versionKey),
          valueLabel: fmtUsd(r.costUsd),
          tooltip: `${r.versionKey}: ${fmtUsd(r.costUsd)} for ${fmtInt(r.tokens)} tokens in ${fmtInt(r.encoderRequests)} requests`,
        })),
        format: (v) => fmtUsd(v),
        xLabel: 'US dollars',
        width: HALF,
      }),
    },
  );
  const duration = figure('backfill-duration', 'Wall-clock time per version, first worker start to last finish.', {
    svg: horizontalBarChart({
      id: 'chart-backfill-duration',
      title: 'Backfill duration per version',
      desc: rows.map((r) => `${r.versionKey}: ${fmtDuration(r.wallSeconds)}`).join('; '),
      rows: rows.map((r) => ({
        label: r.versionKey,
        value: r.wallSeconds ?? 0,
        color: color(r.versionKey),
        valueLabel: fmtDuration(r.wallSeconds),
        tooltip: `${r.versionKey}: ${fmtDuration(r.wallSeconds)} wall, ${fmtDuration(r.workerSeconds)} worker time over ${r.runs} run(s)`,
      })),
      format: (v) => fmtDuration(v),
      axis: durationTicks,
      xLabel: 'wall-clock time',
      width: HALF,
    }),
  });
  return `<section id="backfill"><h2>Backfill cost and duration</h2>${lead}
<div class="grid2">${cost}${duration}</div>
${table}
</section>`;
}
