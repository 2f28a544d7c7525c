/**
 * Record an evaluation in `evaluation_runs`, and for a gated run a
 * `gate_passed` / `gate_failed` event, in one transaction. Activation reads
 * the latest gated run of a version (latestGatedRun).
 */
import type { Kysely, Selectable } from 'kysely';
import type { DB, EvaluationRunsTable } from '../db/index.js';
import type { MeasureValues } from '../trec/index.js';
import { recordEvent } from '../versions/index.js';
import type { GateOutcome } from './apply-gates.js';
import type { Comparison } from './compare.js';
import { label } from './measures.js';
import type { StoredGate, StoredMetrics, StoredQuery, StoredSummary } from './stored-run.js';
import type { VersionEvaluation } from './types.js';
import type { Coverage } from './labels.js';
import type { LabelsUsed } from './outcome.js';

export type EvaluationRunRow = Selectable<EvaluationRunsTable>;

export interface RecordInput {
  candidate: VersionEvaluation;
  baseline?: VersionEvaluation | null;
  comparisons?: readonly Comparison[];
  /** Outcomes of the gates that were applied (empty when none). */
  outcomes?: readonly GateOutcome[];
  /** True for `evaluate --gate`: the run counts for activation and logs an event. */
  gated: boolean;
  gatesSource?: string;
  /** The labels that scored the run (pooled judgments, coverage, kappas). */
  labels?: LabelsUsed;
  actor: string;
}

/** Measure values keyed by alias (`nDCG@10`), as stored and shown. */
export function byAlias(values: MeasureValues, measures: readonly string[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const m of measures) if (values[m] !== undefined) out[label(m)] = values[m]!;
  return out;
}

function summary(e: VersionEvaluation): StoredSummary {
  return {
    version: e.version?.key ?? null,
    overall: { queries: e.overall.queries, values: byAlias(e.overall.values, e.measures) },
    segments: Object.fromEntries(
      e.segments.map((s) => [s.segment, { queries: s.queries, values: byAlias(s.values, e.measures) }]),
    ),
    ...(e.latency ? { latency_ms: e.latency } : {}),
  };
}

function storedLabels(l: LabelsUsed): NonNullable<StoredMetrics['labels']> {
  const cov = (c: Coverage) => ({
    k: c.k,
    before: c.before,
    after: c.after,
    segments: c.segments,
    sources: c.sources,
  });
  return {
    judges: l.judges,
    counts: l.counts,
    judged_only: l.judgedOnly,
    coverage: { candidate: cov(l.coverage.candidate), baseline: l.coverage.baseline ? cov(l.coverage.baseline) : null },
    kappas: l.kappas,
  };
}

export async function recordEvaluation(db: Kysely<DB>, input: RecordInput): Promise<EvaluationRunRow> {
  const { candidate: c, baseline } = input;
  if (!c.version) throw new Error('recordEvaluation needs the evaluation of a stored version');
  const outcomes = input.outcomes ?? [];
  const passed = outcomes.length === 0 ? (input.gated ? true : null) : outcomes.every((o) => o.status !== 'failed');
  const metrics = {
    key_kind: c.judgedSet.keyKind,
    ks: c.ks,
    run_depth: c.runDepth,
    short_queries: c.shortQueries,
    ...summary(c),
    baseline: baseline ? summary(baseline) : null,
    comparisons: (input.comparisons ?? []).map((x) => ({ ...x, metric: label(x.metric) })),
    gates_source: input.gatesSource ?? null,
    timings_ms: c.timings,
    ...(input.labels ? { labels: storedLabels(input.labels) } : {}),
  } satisfies StoredMetrics;
  const baseQ = new Map(baseline?.perQuery.map((q) => [q.id, q.values]) ?? []);
  const perQuery = c.perQuery.map(
    (q) =>
      ({
        id: q.id,
        segment: q.segment,
        values: byAlias(q.values, c.measures),
        ...(baseQ.has(q.id) ? { baseline: byAlias(baseQ.get(q.id)!, c.measures) } : {}),
        top: (c.run.get(q.id) ?? []).slice(0, 10).map((d) => d.docno),
      }) satisfies StoredQuery,
  );
  const gates = outcomes.map(
    (o) =>
      ({
        index: o.index,
        name: o.name,
        kind: o.kind,
        metric: label(o.metric),
        segment: o.segment,
        status: o.status,
        value: Number.isFinite(o.value) ? o.value : null,
        min: o.min ?? null,
        max_drop: o.maxDrop ?? null,
        alpha: o.alpha ?? null,
        baseline: o.baselineKey ?? null,
        comparison: o.comparison ? { ...o.comparison, metric: label(o.comparison.metric) } : null,
        message: o.message,
      }) satisfies StoredGate,
  );
  return db.transaction().execute(async (trx) => {
    const row = await trx
      .insertInto('evaluation_runs')
      .values({
        embedding_version_id: c.version!.id,
        baseline_version_id: baseline?.version?.id ?? null,
        judged_set_name: c.judgedSet.name,
        judged_set_sha256: c.judgedSet.sha256,
        gated: input.gated,
        passed,
        metrics: JSON.stringify(metrics),
        per_query: JSON.stringify(perQuery),
        gates: JSON.stringify(gates),
        actor: input.actor,
      })
      .returningAll()
      .executeTakeFirstOrThrow();
    if (input.gated) {
      const failed = outcomes.filter((o) => o.status === 'failed');
      await recordEvent(trx, {
        versionId: c.version!.id,
        versionKey: c.version!.key,
        event: passed ? 'gate_passed' : 'gate_failed',
        actor: input.actor,
        reason: passed
          ? `${outcomes.length} gate(s) passed on ${c.judgedSet.name}`
          : `${failed.length} of ${outcomes.length} gate(s) failed on ${c.judgedSet.name}: ${failed.map((o) => o.name).join('; ')}`,
        details: {
          evaluation_run_id: Number(row.id),
          judged_set: c.judgedSet.name,
          judged_set_sha256: c.judgedSet.sha256,
          baseline: baseline?.version?.key ?? null,
          failed: failed.map((o) => o.message),
        },
      });
    }
    return row;
  });
}

/** The latest gated evaluation run of a version (what activation checks), if any. */
export async function latestGatedRun(db: Kysely<DB>, versionId: number): Promise<EvaluationRunRow | undefined> {
  return db
    .selectFrom('evaluation_runs')
    .selectAll()
    .where('embedding_version_id', '=', versionId)
    .where('gated', '=', true)
    .orderBy('id', 'desc')
    .limit(1)
    .executeTakeFirst();
}
