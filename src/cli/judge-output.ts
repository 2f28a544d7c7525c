/** What `embctl judge` and `judge calibrate` print (human lines; `--json` gets the same objects). */
import type { CalibrationResult, JudgeReport } from '../judge/index.js';
import type { CliContext } from './context.js';
import { formatDuration } from './progress.js';

export function printReport(ctx: CliContext, r: JudgeReport): void {
  const p = r.pool;
  ctx.out.result({
    judge: r.judge.id,
    candidate: r.candidate,
    baseline: r.baseline,
    source: r.source,
    pool: p,
    estimate: r.estimate,
    run: r.run,
    dry_run: r.run === null,
  });
  ctx.out.line(
    `pool of ${r.candidate}${r.baseline ? ` and ${r.baseline}` : ''}, top ${p.depth}, ${p.queries} queries (${r.source}): ${p.pooled} pairs; ${p.labelled} already labelled, ${p.judged} already judged by ${r.judge.id}${p.failed ? `, ${p.failed} failed before` : ''}; ${p.toJudge} to judge in ${p.queriesToJudge} queries`,
  );
  const est = r.estimate;
  if (r.run === null) {
    ctx.out.line(
      `dry run: ${est.pairs} pairs, ${p.queriesToJudge} queries, ~${est.inputTokens.toLocaleString('en-US')} input tokens, estimated $${est.usd.toFixed(4)}${r.judge.kind === 'cross-encoder' ? ' (local judge: no cost)' : ''}; nothing written`,
    );
    return;
  }
  const run = r.run;
  if (p.toJudge === 0) {
    ctx.out.line('nothing left to judge: every pooled pair is labelled or already judged by this judge');
    return;
  }
  ctx.out.line(
    `judged ${run.graded + run.failed} pairs in ${formatDuration(run.seconds)}: ${run.graded} graded, ${run.failed} failed${run.left ? `, ${run.left} left` : ''} · ${run.cost.inputTokens.toLocaleString('en-US')} tokens · $${run.cost.usd.toFixed(4)}${run.rateLimited ? ` · ${run.rateLimited}×429` : ''}`,
  );
  for (const reason of run.failures) ctx.out.line(`  not graded: ${reason}`);
}

export function printCalibration(ctx: CliContext, r: CalibrationResult, fitted: boolean): void {
  ctx.out.result({
    judge: r.judge.id,
    judged_set: r.judgedSet,
    pairs: r.pairs,
    failed: r.failed,
    kappa: r.kappa,
    accuracy: r.accuracy,
    kendall_tau: r.kendallTau,
    thresholds: r.thresholds,
    confusion: r.confusion,
    versions: r.versions,
    cost_usd: r.run.cost.usd,
    calibration_id: r.calibrationId,
  });
  ctx.out.line(
    `judge ${r.judge.id} against ${r.judgedSet.name} (${r.pairs} labelled pairs${r.failed ? `, ${r.failed} not graded` : ''}):`,
  );
  ctx.out.line(`  Cohen's kappa (quadratic-weighted) ${r.kappa.toFixed(4)} · accuracy ${r.accuracy.toFixed(4)}`);
  if (r.thresholds)
    ctx.out.line(
      `  thresholds (lowest score of grades 1, 2, 3): ${r.thresholds.map((t) => t.toFixed(4)).join(', ')}${fitted ? ' (fitted; stored)' : ''}`,
    );
  if (r.kendallTau !== null)
    ctx.out.line(
      `  Kendall's tau of the version ranking by nDCG@10: ${r.kendallTau.toFixed(4)} (${r.versions.map((v) => `${v.key} ${v.human.toFixed(3)}/${v.judge.toFixed(3)}`).join(', ')}; people/judge)`,
    );
  else ctx.out.line("  Kendall's tau: needs two or more backfilled versions");
  ctx.out.line('  confusion (rows: people 0–3, columns: judge 0–3):');
  for (const [g, row] of r.confusion.entries())
    ctx.out.line(`    ${g}: ${row.map((n) => String(n).padStart(5)).join('')}`);
  ctx.out.line(
    `recorded as calibration ${r.calibrationId}; gates can require it: "min_kappa": ${Math.max(0, Math.floor(r.kappa * 10) / 10)}`,
  );
}
