/**
 * The stored shape of an evaluation run: the JSON columns `metrics`,
 * `per_query` and `gates` of `evaluation_runs`, defined once. The writer
 * (record.ts) checks its literals against these types with `satisfies`;
 * readers (the upgrade report) go through `parseStoredRun`, which refuses a
 * row of another shape with one line naming the run.
 *
 * Measure values are keyed by alias (`nDCG@10`); the overall aggregate is the
 * segment `all`. A value that was NaN when written is stored as JSON null.
 * Every version of `recordEvaluation` so far wrote exactly these shapes.
 */
import { z } from 'zod';
import { InputError } from '../errors.js';

/** `{ "nDCG@10": 0.61, ... }`; null where the value was NaN. */
const storedValues = z.record(z.string(), z.number().nullable());
const storedNumber = z.number().nullable();

const storedAggregate = z.object({ queries: z.number().int().nonnegative(), values: storedValues });

/** Per-query search time of one version's run, milliseconds (evaluate-version.ts SearchLatency). */
const storedLatency = z.object({
  queries: z.number().int().nonnegative(),
  concurrency: z.number().int().positive(),
  p50: z.number(),
  p95: z.number(),
  p99: z.number(),
  mean: z.number(),
});

/** The summary of one version's run: overall and per segment. */
const storedSummary = z.object({
  version: z.string().nullable(),
  overall: storedAggregate,
  segments: z.record(z.string(), storedAggregate),
  /** Runs recorded before per-query search times were kept have none. */
  latency_ms: storedLatency.optional(),
});

/** One candidate-versus-baseline comparison (compare.ts `Comparison`, metric as alias). */
const storedComparison = z.object({
  segment: z.string(),
  metric: z.string(),
  n: z.number().int().nonnegative(),
  candidate: storedNumber,
  baseline: storedNumber,
  delta: storedNumber,
  pValue: storedNumber,
  ciLower: storedNumber,
  ciUpper: storedNumber,
  confidence: storedNumber,
});

/** Judged@K before and after pooled judgments, and the top K's share per label source. */
const storedCoverage = z.object({
  k: z.number().int(),
  before: z.number(),
  after: z.number(),
  segments: z.array(z.object({ segment: z.string(), before: z.number(), after: z.number() })),
  sources: z.record(z.string(), z.number()),
});

export const storedMetricsSchema = storedSummary.extend({
  key_kind: z.enum(['document_id', 'semantic_key']),
  ks: z.array(z.number().int()),
  run_depth: z.number().int(),
  short_queries: z.number().int().nonnegative(),
  baseline: storedSummary.nullable(),
  comparisons: z.array(storedComparison),
  gates_source: z.string().nullable(),
  timings_ms: z.object({ retrieveMs: z.number(), scoreMs: z.number() }),
  /** Which labels scored the run (runs recorded before judgments existed have none). */
  labels: z
    .object({
      judges: z.array(z.string()).nullable(),
      counts: z.record(z.string(), z.number()),
      judged_only: z.boolean(),
      coverage: z.object({ candidate: storedCoverage, baseline: storedCoverage.nullable() }),
      kappas: z.record(z.string(), z.number().nullable()),
    })
    .optional(),
});

export const storedQuerySchema = z.object({
  id: z.string().min(1),
  segment: z.string(),
  values: storedValues,
  /** The baseline's values for the same query, when the run had a baseline. */
  baseline: storedValues.optional(),
  /** The first ten documents (or chunks) retrieved. */
  top: z.array(z.string()),
});

export const storedGateSchema = z.object({
  index: z.number().int().nonnegative(),
  name: z.string(),
  kind: z.enum(['min', 'max_drop', 'min_judged', 'min_kappa']),
  metric: z.string(),
  segment: z.string(),
  status: z.enum(['passed', 'failed', 'skipped']),
  value: storedNumber,
  min: storedNumber,
  max_drop: storedNumber,
  alpha: storedNumber,
  /** The key of the version a relative gate compared against. */
  baseline: z.string().nullable(),
  comparison: storedComparison.nullable(),
  message: z.string(),
});

export type StoredComparison = z.infer<typeof storedComparison>;
export type StoredSummary = z.infer<typeof storedSummary>;
export type StoredLatency = z.infer<typeof storedLatency>;
export type StoredMetrics = z.infer<typeof storedMetricsSchema>;
export type StoredQuery = z.infer<typeof storedQuerySchema>;
export type StoredGate = z.infer<typeof storedGateSchema>;

/** One evaluation run's stored JSON, parsed. */
export interface StoredRun {
  runId: number;
  metrics: StoredMetrics;
  perQuery: StoredQuery[];
  gates: StoredGate[];
}

/** The row as selected: the JSON columns as the driver returns them (parsed, or text). */
export interface StoredRunRow {
  id: number | string;
  metrics: unknown;
  per_query: unknown;
  gates: unknown;
}

const COLUMNS = [
  ['metrics', storedMetricsSchema],
  ['per_query', z.array(storedQuerySchema)],
  ['gates', z.array(storedGateSchema)],
] as const;

function json(v: unknown): unknown {
  if (typeof v !== 'string') return v;
  try {
    return JSON.parse(v);
  } catch {
    return v;
  }
}

/**
 * Parses the stored JSON of a run. An old or foreign row (a field missing or
 * of another type) is an InputError naming the run, the first problem as a
 * path, and what to do; every problem is in `details`.
 */
export function parseStoredRun(row: StoredRunRow, versionKey?: string): StoredRun {
  const runId = Number(row.id);
  const problems: string[] = [];
  const out: Partial<Record<(typeof COLUMNS)[number][0], unknown>> = {};
  for (const [column, schema] of COLUMNS) {
    const parsed = schema.safeParse(json(row[column]));
    if (parsed.success) out[column] = parsed.data;
    else
      for (const issue of parsed.error.issues) problems.push(`${[column, ...issue.path].join('.')}: ${issue.message}`);
  }
  if (problems.length) {
    const again = versionKey ? `embctl evaluate --version ${versionKey}` : 'embctl evaluate';
    throw new InputError(
      `evaluation run ${runId} was stored in a shape this embctl cannot read (${problems[0]}${problems.length > 1 ? `; ${problems.length - 1} more` : ''}): re-run \`${again}\` to record it again`,
      problems,
    );
  }
  return {
    runId,
    metrics: out.metrics as StoredMetrics,
    perQuery: out.per_query as StoredQuery[],
    gates: out.gates as StoredGate[],
  };
}
