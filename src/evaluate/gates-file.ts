/**
 * The gates file (`evals/gates.json`, or `.yaml` / `.yml`): parsed once,
 * validated with zod, and every problem reported with its path
 * (`gates[2].metric: unknown metric "nDCG10"`), all at once.
 *
 *   {
 *     "alpha": 0.05,                       // significance level of relative gates (default 0.05)
 *     "gates": [
 *       {"metric": "nDCG@10", "max_drop": 0.01},                   // relative, overall, vs the baseline
 *       {"metric": "P@10", "segment": "invoices", "min": 0.9},      // absolute, one segment
 *       {"metric": "Judged@10", "min": 0.8},                        // judged coverage
 *       {"metric": "bpref", "min": 0.3},                            // any trec_eval measure, by name or alias
 *       {"min_judged": 0.8, "k": 10}                                // refuse to decide when less of the top 10 is judged
 *     ],
 *     "judges": ["human", "cross-encoder:ms-marco"],              // label sources accepted (default: all stored)
 *     "min_kappa": 0.6                                            // every judge used must agree this well with people
 *   }
 *
 * A `min_judged` gate checks the candidate's (and the baseline's) Judged@K
 * with every accepted label; when it fails, the other gates are not
 * decided: a gate blind to what the candidate returns fails loudly instead
 * of passing.
 */
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { extname } from 'node:path';
import YAML from 'yaml';
import { z } from 'zod';
import { InputError } from '../errors.js';
import { isGeometricMean, measureRange, parseMeasure, toAlias } from '../trec/index.js';
import { type JudgedSet } from '../judged-set/index.js';
import { NO_SEGMENT } from './types.js';
import { jsonValueProblem } from '../util/index.js';

/** Where `evaluate --gate` looks when `--gates` is not given. */
export const DEFAULT_GATES_FILES = ['evals/gates.json', 'evals/gates.yaml', 'evals/gates.yml'];

export const DEFAULT_ALPHA = 0.05;
export const DEFAULT_CONFIDENCE = 0.95;
export const DEFAULT_RESAMPLES = 10_000;

export interface Gate {
  /** Position in the file (0-based), for messages (`gates[2]`). */
  index: number;
  /** Name shown in reports and JUnit (default: derived from the gate). */
  name: string;
  /** trec_eval name of the measure. */
  metric: string;
  /** The segment it applies to; null = overall. */
  segment: string | null;
  kind: 'min' | 'max_drop' | 'min_judged';
  /** `min`: the candidate's value must be at least this. */
  min?: number;
  /** `max_drop`: the largest tolerated mean drop versus the baseline. */
  maxDrop?: number;
  /** `max_drop`: significance level (default: the file's alpha). */
  alpha?: number;
}

export interface GatesConfig {
  source: string;
  alpha: number;
  /** Confidence of the bootstrap interval reported with relative gates. */
  confidence: number;
  /** Random sign flips of the randomization test, and bootstrap resamples. */
  permutations: number;
  resamples: number;
  seed: number | string | undefined;
  gates: Gate[];
  /** Label sources accepted (`judged-set`, `human`, judge ids or specs); undefined: all. */
  judges?: string[];
  /** The lowest kappa (judge calibrate) a judge whose labels are used may have. */
  minKappa?: number;
}

const knownMetric = z
  .string()
  .min(1)
  .superRefine((m, ctx) => {
    const problem = metricProblem(m);
    if (problem) ctx.addIssue({ code: 'custom', message: problem });
  });

const gateSchema = z
  .object({
    name: z.string().min(1).optional(),
    metric: knownMetric.optional(),
    min_judged: z.number().min(0).max(1).optional(),
    k: z.number().int().min(1).max(1000).optional(),
    segment: z.string().min(1).optional(),
    min: z.number().optional(),
    max_drop: z.number().min(0).optional(),
    alpha: z.number().gt(0).lt(1).optional(),
  })
  .strict();

const fileSchema = z
  .object({
    $schema: z.string().optional(),
    description: z.string().optional(),
    alpha: z.number().gt(0).lt(1).default(DEFAULT_ALPHA),
    confidence: z.number().gt(0).lt(1).default(DEFAULT_CONFIDENCE),
    permutations: z.number().int().min(100).max(1_000_000).default(DEFAULT_RESAMPLES),
    resamples: z.number().int().min(100).max(1_000_000).default(DEFAULT_RESAMPLES),
    seed: z.union([z.number().int(), z.string()]).optional(),
    gates: z.array(gateSchema).min(1, 'at least one gate is needed'),
    judges: z.array(z.string().min(1)).min(1).optional(),
    min_kappa: z.number().min(-1).max(1).optional(),
  })
  .strict();

/** The trec_eval name of a gate metric, or null when it is unknown or not a gate metric. */
function tryMeasure(m: string): string | null {
  return metricProblem(m) === null ? parseMeasure(m).name : null;
}

/** Why `m` cannot be gated on, or null when it can. */
function metricProblem(m: string): string | null {
  let name: string;
  try {
    name = parseMeasure(m).name;
  } catch {
    return `unknown metric ${JSON.stringify(m)} (use P@K, R@K, nDCG@K, MAP@K, hit@K, Judged@K, MRR, MAP, R-prec, RBP@p or a trec_eval name such as bpref, infAP, ndcg, map_cut_10)`;
  }
  if (measureRange(name) === null) return `${JSON.stringify(m)} is a count or a label, not a gate metric`;
  return null;
}

/** Thresholds that the metric's values can never meet, or that the decision rule cannot use. */
function thresholdProblems(g: Record<string, unknown>, i: number): string[] {
  const metric = typeof g.metric === 'string' ? tryMeasure(g.metric) : null;
  if (metric === null) return [];
  const [lo, hi] = measureRange(metric)!;
  const range = `from ${lo} to ${hi}`;
  const shown = `${toAlias(metric)} ranges ${Number.isFinite(lo) ? range : 'over all numbers'}`;
  const problems: string[] = [];
  if (typeof g.min === 'number' && g.min > hi)
    problems.push(`gates[${i}].min: ${shown}, so a min of ${g.min} could never pass: use a value ${range}`);
  if (typeof g.min === 'number' && g.min < lo)
    problems.push(`gates[${i}].min: ${shown}, so a min of ${g.min} checks nothing: use a value ${range}`);
  if (typeof g.max_drop === 'number') {
    if (g.max_drop > hi - lo)
      problems.push(
        `gates[${i}].max_drop: ${shown}, so a drop of ${g.max_drop} can never happen: use a value from 0 to ${hi - lo}`,
      );
    if (isGeometricMean(metric)) {
      problems.push(
        `gates[${i}].max_drop: ${toAlias(metric)} is a geometric mean over queries, which a paired per-query test does not compare; gate it with "min", or gate ${metric.replace(/^gm_/, '')}`,
      );
    }
  }
  return problems;
}

/** `gates[2].metric` from ['gates', 2, 'metric']. */
export function formatPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const p of path) out += typeof p === 'number' ? `[${p}]` : `${out ? '.' : ''}${String(p)}`;
  return out || '(top level)';
}

/** Parse gates text; `source` names the file and picks JSON or YAML by extension. */
export function parseGates(text: string, source: string): GatesConfig {
  const raw = parseSyntax(text, source);
  const problems: string[] = [];
  const parsed = fileSchema.safeParse(raw);
  if (!parsed.success) {
    for (const issue of parsed.error.issues) {
      if (issue.code === 'unrecognized_keys') {
        for (const k of issue.keys)
          problems.push(`${formatPath([...issue.path, k])}: unknown field (known: ${knownFields(issue.path)})`);
      } else problems.push(`${formatPath(issue.path)}: ${issue.message}`);
    }
  }
  // Gate names and segments are recorded in PostgreSQL, which stores no NUL or unpaired surrogate.
  const unstorable = jsonValueProblem(raw, 'gates file', 32);
  if (unstorable) problems.push(unstorable);
  // Rules between fields, checked on the raw input so they are reported along with type problems.
  const gates = (raw as { gates?: unknown })?.gates;
  if (Array.isArray(gates)) {
    gates.forEach((g, i) => {
      if (typeof g !== 'object' || g === null || Array.isArray(g)) return;
      const has = (k: string) => (g as Record<string, unknown>)[k] !== undefined;
      if (has('min_judged')) {
        for (const k of ['metric', 'min', 'max_drop', 'alpha'])
          if (has(k)) problems.push(`gates[${i}].${k}: a min_judged gate takes only "k", "segment" and "name"`);
        return;
      }
      if (has('k')) problems.push(`gates[${i}].k: applies to min_judged gates only (the metric names its own cutoff)`);
      if (!has('metric')) {
        problems.push(`gates[${i}]: missing "metric" (or "min_judged" for a coverage gate)`);
        return;
      }
      if (has('min') && has('max_drop'))
        problems.push(`gates[${i}]: give either "min" (absolute) or "max_drop" (relative to the baseline), not both`);
      else if (!has('min') && !has('max_drop'))
        problems.push(`gates[${i}]: missing a threshold: "min" (absolute) or "max_drop" (relative to the baseline)`);
      if (has('alpha') && !has('max_drop'))
        problems.push(`gates[${i}].alpha: applies to relative ("max_drop") gates only`);
      problems.push(...thresholdProblems(g as Record<string, unknown>, i));
    });
  }
  if (problems.length || !parsed.success) {
    throw new InputError(
      `Invalid gates file ${source}: ${problems.length} problem${problems.length === 1 ? '' : 's'}`,
      problems,
    );
  }
  const f = parsed.data;
  return {
    source,
    alpha: f.alpha,
    confidence: f.confidence,
    permutations: f.permutations,
    resamples: f.resamples,
    seed: f.seed,
    ...(f.judges ? { judges: f.judges } : {}),
    ...(f.min_kappa !== undefined ? { minKappa: f.min_kappa } : {}),
    gates: f.gates.map((g, index) => {
      if (g.min_judged !== undefined) {
        const k = g.k ?? 10;
        const gate: Gate = {
          index,
          name: '',
          metric: `judged_${k}`,
          segment: g.segment ?? null,
          kind: 'min_judged',
          min: g.min_judged,
        };
        gate.name = g.name ?? `${g.segment ?? 'overall'} Judged@${k} >= ${g.min_judged} (or no decision)`;
        return gate;
      }
      const metric = tryMeasure(g.metric!)!;
      const gate: Gate = {
        index,
        name: '',
        metric,
        segment: g.segment ?? null,
        kind: g.max_drop !== undefined ? 'max_drop' : 'min',
        min: g.min,
        maxDrop: g.max_drop,
        alpha: g.alpha,
      };
      gate.name = g.name ?? defaultGateName(gate, g.metric!);
      return gate;
    }),
  };
}

function knownFields(path: readonly PropertyKey[]): string {
  const shape = path.length === 0 ? fileSchema.shape : gateSchema.shape;
  return Object.keys(shape).join(', ');
}

function defaultGateName(g: Gate, metric: string): string {
  const where = g.segment ?? 'overall';
  return g.kind === 'min' ? `${where} ${metric} >= ${g.min}` : `${where} ${metric} drop <= ${g.maxDrop} vs baseline`;
}

function parseSyntax(text: string, source: string): unknown {
  const ext = extname(source).toLowerCase();
  if (ext === '.yaml' || ext === '.yml') {
    // Warnings (an unknown tag such as !!js/function) are problems of the file, not
    // process warnings: logLevel silent keeps the library from printing them.
    const doc = YAML.parseDocument(text, { logLevel: 'silent', prettyErrors: true });
    const problems = [...doc.errors, ...doc.warnings].map((err) => {
      const pos = err.linePos?.[0];
      const what =
        err.code === 'TAG_RESOLVE_FAILED'
          ? `unsupported YAML tag (${err.message
              .split('\n')[0]!
              .replace(/^Unresolved tag: /, '')
              .replace(/ at line.*$/, '')}): a gates file is plain data`
          : err.message.split('\n')[0]!;
      return `${source}${pos ? `:${pos.line}:${pos.col}` : ''}: ${what}`;
    });
    if (problems.length)
      throw new InputError(
        `Invalid gates file ${source}: ${doc.errors.length ? 'malformed YAML' : 'unsupported YAML'}`,
        problems,
      );
    return doc.toJS();
  }
  try {
    return JSON.parse(text);
  } catch (e) {
    const message = (e as Error).message;
    const m = /position (\d+)/.exec(message);
    const where = m ? `:${lineOf(text, Number(m[1]))}` : '';
    throw new InputError(`Invalid gates file ${source}: malformed JSON`, [`${source}${where}: ${message}`]);
  }
}

function lineOf(text: string, offset: number): number {
  let line = 1;
  for (let i = 0; i < offset && i < text.length; i++) if (text.charCodeAt(i) === 10) line++;
  return line;
}

export async function readGatesFile(path: string): Promise<GatesConfig> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (e) {
    throw new InputError(
      `Cannot read gates file ${path}: ${(e as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (e as Error).message}`,
      [],
      { cause: e },
    );
  }
  return parseGates(text, path);
}

/** The default gates file under `cwd`, if one exists. */
export function findDefaultGatesFile(exists: (p: string) => boolean = existsSync): string | undefined {
  return DEFAULT_GATES_FILES.find((p) => exists(p));
}

/** Gates that name a segment the judged set does not have: every one is listed. */
export function checkGatesAgainstSet(config: GatesConfig, set: JudgedSet): void {
  const segments = new Set(set.queries.map((q) => q.segment ?? NO_SEGMENT));
  const problems: string[] = [];
  for (const g of config.gates) {
    if (g.segment !== null && !segments.has(g.segment)) {
      problems.push(
        `gates[${g.index}].segment: no segment "${g.segment}" in judged set ${set.name} (segments: ${[...segments].sort().join(', ')})`,
      );
    }
  }
  if (problems.length)
    throw new InputError(`Gates file ${config.source} does not fit judged set ${set.name}`, problems);
}
