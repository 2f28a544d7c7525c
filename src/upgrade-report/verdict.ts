/** The one-line verdict at the top of the report, derived from the model alone. */
import type { MetricComparison, ReportModel, Verdict } from './types.js';
import { OVERALL_LABEL } from './evaluation/table.js';

const signed = (x: number, digits = 3) => `${x >= 0 ? '+' : '−'}${Math.abs(x).toFixed(digits)}`;

export function headlineComparison(model: Pick<ReportModel, 'evaluation'>): MetricComparison | null {
  const e = model.evaluation;
  if (!e || !e.headlineMetric) return null;
  const overall = e.segments.find((s) => s.segment === OVERALL_LABEL) ?? e.segments[0];
  return overall?.metrics.find((m) => m.metric === e.headlineMetric) ?? null;
}

export function computeVerdict(model: Omit<ReportModel, 'verdict'>): Verdict {
  const c = model.candidate;
  if (!c) {
    return {
      status: 'empty',
      headline: model.versions.length ? 'No candidate version to report on' : 'No versions registered yet',
      details: [
        'Register and backfill a version: embctl versions register v1 --encoder hash:words-256, then embctl backfill v1.',
      ],
    };
  }
  const details: string[] = [];
  const e = model.evaluation;
  const base = model.baseline?.key ?? e?.baselineKey ?? null;
  const h = headlineComparison(model);
  if (h && h.candidate !== null) {
    let line = `${h.metric} ${h.candidate.toFixed(3)}`;
    if (h.baseline !== null) line += ` vs ${h.baseline.toFixed(3)} for ${base ?? 'the baseline'}`;
    if (h.delta !== null) line += ` (${signed(h.delta)}`;
    if (h.delta !== null && h.deltaCi) line += `, 95% CI ${signed(h.deltaCi.lo)} to ${signed(h.deltaCi.hi)}`;
    if (h.delta !== null) line += ')';
    details.push(`${line} on ${e!.judgedSet}.`);
  }
  const failed = e?.gates.filter((g) => !g.passed) ?? [];
  const skipped = e?.gates.filter((g) => g.passed && g.status === 'skipped') ?? [];
  if (e && e.gates.length) {
    const n = e.gates.length;
    details.push(
      failed.length
        ? `${failed.length} of ${n} gates failed: ${failed.map((g) => g.name).join(', ')}.`
        : skipped.length
          ? `${n - skipped.length} of ${n} gates passed, ${skipped.length} skipped (${skipped.map((g) => g.name).join(', ')}).`
          : `All ${n} gates passed.`,
    );
  }
  const s = model.shadow;
  if (s) {
    const parts = [`${s.queries.toLocaleString('en-US')} shadowed queries`];
    if (s.overlap.mean !== null) parts.push(`mean overlap@${s.k ?? 'K'} ${s.overlap.mean.toFixed(2)}`);
    if (s.rbo.mean !== null) parts.push(`mean RBO ${s.rbo.mean.toFixed(2)}`);
    if (s.latency)
      parts.push(`p95 latency ${s.latency.candidate.p95.toFixed(1)} ms vs ${s.latency.primary.p95.toFixed(1)} ms`);
    details.push(parts.join(', ') + '.');
  }
  if (c.state !== 'ready' && c.state !== 'retired') details.push(`Backfill is not complete (state: ${c.state}).`);
  const lastActivation = [...model.events].reverse().find((x) => x.versionKey === c.key && x.event === 'activated');
  if (c.active && lastActivation?.forced)
    details.push(`Activation was forced${lastActivation.reason ? `: ${lastActivation.reason}` : ''}.`);

  if (c.state === 'retired') return { status: 'pending', headline: `${c.key} is retired`, details };
  if (e && e.gated && e.passed === false) {
    return {
      status: 'fail',
      headline: c.active
        ? `${c.key} is active, but its last gate run failed`
        : `${c.key} failed its gates${base ? ` against ${base}` : ''}: do not activate`,
      details,
    };
  }
  if (c.active) {
    return {
      status: 'active',
      headline: `${c.key} is active${base ? `, replacing ${base}` : ''}${e?.passed ? ' — gates passed' : ''}`,
      details,
    };
  }
  if (e && e.gated && e.passed === true) {
    return {
      status: 'pass',
      headline: `${c.key} passed its gates${base ? ` against ${base}` : ''}: ready to activate`,
      details,
    };
  }
  if (!e) {
    details.push(`Evaluate it: embctl evaluate --version ${c.key} --gate.`);
    return { status: 'pending', headline: `${c.key} has not been evaluated yet`, details };
  }
  details.push(`Gate it: embctl evaluate --version ${c.key} --gate.`);
  return { status: 'pending', headline: `${c.key} was evaluated without gates`, details };
}
