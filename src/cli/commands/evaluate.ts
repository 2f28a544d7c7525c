import { readFile } from 'node:fs/promises';
import { writeOutputFile } from '../../util/index.js';
import { Command, Option } from 'commander';
import { InputError, RefusedError, UsageError } from '../../errors.js';
import { evaluateRun, readQrelsFile, readRunFile, type EvaluationResult } from '../../trec/index.js';
import { isKeyKind, loadJudgedSet, type JudgedSet } from '../../judged-set/index.js';
import {
  checkGatesAgainstSet,
  createSearchRetriever,
  findDefaultGatesFile,
  findDefaultJudgedSet,
  formatTrecEval,
  formatTrecRun,
  parseKs,
  pickEvaluationVersions,
  readGatesFile,
  renderJUnit,
  renderMarkdown,
  renderTable,
  runEvaluation,
  type GatesConfig,
} from '../../evaluate/index.js';
import { byAlias } from '../../evaluate/index.js';
import type { CliContext } from '../context.js';
import { collect, intOption } from '../options.js';
import { createProgress } from '../progress.js';
import { requireSchema } from '../schema-guard.js';
import { coverageLines } from '../coverage-lines.js';
import { checkGateCanary } from '../canary-gate.js';

interface EvaluateFlags {
  version?: string;
  judged?: string;
  queries?: string;
  key?: string;
  split?: string;
  gate?: boolean;
  gates?: string;
  baseline?: string;
  cutoffs?: string;
  report?: string;
  junit?: string;
  exportRun?: string;
  record: boolean;
  concurrency?: number;
  // TREC file mode
  qrels?: string;
  run?: string;
  level?: number;
  complete?: boolean;
  perQuery?: boolean;
  measure?: string[];
  judgedOnly?: boolean;
  judges?: string;
  maxRetrieved?: number;
  /** false with -n (commander's negatable --no-summary). */
  summary?: boolean;
  /** trec_eval flags embctl does not take: refused with a message. */
  D?: string;
  N?: string;
  R?: string;
  T?: string;
  Z?: string;
  o?: boolean;
  v?: boolean;
}

export function registerEvaluate(program: Command, ctx: CliContext): void {
  program
    .command('evaluate')
    .description('score a version on a judged query set per segment; --gate fails (exit 1) when a gate fails')
    .option('--version <key>', 'version to evaluate (default: the active version)')
    .option(
      '--judged <path>',
      'judged set: embctl JSONL, TREC qrels (with --queries) or a BEIR folder (default: the one evals/*.judged.jsonl)',
    )
    .option('--queries <file>', 'queries file (TSV or JSONL) for a TREC qrels --judged file')
    .addOption(
      new Option('--key <kind>', 'what the judged ids name (default: from the file, else document_id)').choices([
        'document_id',
        'semantic_key',
      ]),
    )
    .option('--split <name>', 'BEIR folder: which qrels/<split>.tsv (default test)')
    .option('--gate', 'apply the gates, record the outcome for activation, exit 1 when one fails')
    .option('--gates <file>', 'gates file, JSON or YAML (default: evals/gates.json if it exists)')
    .option('--baseline <key>', 'version relative gates compare against (default: the active version)')
    .option('-k, --cutoffs <list>', 'cutoffs K for P@K, R@K, nDCG@K, hit@K, Judged@K (default 1,5,10,20,100)')
    .option('--report <file>', 'write a Markdown report')
    .option('--junit <file>', 'write JUnit XML, one test case per gate (for CI)')
    .option('--export-run <file>', 'write the results as a TREC run file (qid Q0 docno rank score embctl-<version>)')
    .option('--no-record', 'do not record the run in the database')
    .option('--concurrency <n>', 'searches in flight (default 4)', intOption(1, 64))
    .option('--qrels <file>', 'TREC mode: score --run against these qrels (no database)')
    .option('--run <file>', 'TREC mode: the run file')
    .option('-l, --level <n>', 'TREC mode: minimum grade that counts as relevant (trec_eval -l)', intOption(0, 1000))
    .option('-c, --complete', 'TREC mode: qrels queries missing from the run count as 0 (trec_eval -c)')
    .option('-q, --per-query', 'TREC mode: print every query, then all (trec_eval -q)')
    .option(
      '-m, --measure <name>',
      'TREC mode: measures, as trec_eval -m (repeatable; default official; e.g. all_trec, P.5,10, rbp.p=0.8, bpref, nDCG@10)',
      collect,
    )
    .option('-J, --judged-only', 'score judged results only, as trec_eval -J (both modes)')
    .option(
      '--judges <list>',
      'label sources besides the set\'s own, in order of preference: human, judge ids or specs; judged-set alone: none (default: the gates file\'s "judges", else all)',
    )
    .option(
      '-M, --max-retrieved <n>',
      'TREC mode: score only the first N results per query (trec_eval -M)',
      intOption(1),
    )
    .option('-n, --no-summary', 'TREC mode: no "all" lines (trec_eval -n)')
    .addOption(new Option('-D <level>').hideHelp())
    .addOption(new Option('-N <docs>').hideHelp())
    .addOption(new Option('-R <format>').hideHelp())
    .addOption(new Option('-T <format>').hideHelp())
    .addOption(new Option('-Z <file>').hideHelp())
    .addOption(new Option('-o').hideHelp())
    .addOption(new Option('-v').hideHelp())
    .addHelpText(
      'after',
      `
Gates (evals/gates.json):
  {"gates": [{"metric": "nDCG@10", "max_drop": 0.01},
             {"metric": "P@10", "segment": "invoices", "min": 0.9},
             {"metric": "Judged@10", "min": 0.8}]}
  A max_drop gate fails when the mean drop vs the baseline exceeds max_drop AND is
  significant (paired randomization test, p < alpha = 0.05); see evals/README.md.

Examples:
  $ embctl evaluate --judged evals/demo.judged.jsonl
  $ embctl evaluate --version v2 --gate --report eval.md --junit eval.xml
  $ embctl evaluate --version v2 --judged ./scifact -k 1,10,100 --export-run v2.trec
  $ embctl evaluate --version v2 --judged qrels.txt --queries topics.tsv --baseline v1 --gate
  $ embctl evaluate --qrels qrels.test --run results.test -m all_trec -q     # = trec_eval -m all_trec -q
  $ embctl evaluate --qrels qrels.txt --run run.trec -m P.5,10 -m bpref -J -l 2`,
    )
    .action(async (f: EvaluateFlags) => {
      if (f.qrels !== undefined || f.run !== undefined) return trecMode(ctx, f);
      return versionMode(ctx, f);
    });
}

const VERSION_ONLY: (keyof EvaluateFlags)[] = [
  'version',
  'judged',
  'queries',
  'key',
  'split',
  'gate',
  'gates',
  'baseline',
  'cutoffs',
  'report',
  'junit',
  'exportRun',
  'judges',
];
const TREC_ONLY: (keyof EvaluateFlags)[] = ['level', 'complete', 'perQuery', 'measure', 'maxRetrieved'];
const flagName = (k: string) => `--${k.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`;
/** trec_eval's flags that embctl does not take. */
const UNSUPPORTED_TREC_FLAGS = ['D', 'N', 'R', 'T', 'Z', 'o', 'v'] as const;

function refuseUnsupportedFlags(f: EvaluateFlags): void {
  const given = UNSUPPORTED_TREC_FLAGS.filter((k) => f[k] !== undefined);
  if (given.length) {
    throw new UsageError(
      `${given.map((k) => `-${k}`).join(', ')}: trec_eval flag${given.length > 1 ? 's' : ''} not supported by embctl evaluate (supported: -q -m -c -J -l -M -n)`,
    );
  }
}

/** `--qrels <file> --run <file>`: trec_eval output, no database. */
async function trecMode(ctx: CliContext, f: EvaluateFlags): Promise<void> {
  refuseUnsupportedFlags(f);
  const misplaced = VERSION_ONLY.filter((k) => f[k] !== undefined);
  if (misplaced.length)
    throw new UsageError(
      `${misplaced.map(flagName).join(', ')} cannot be used with --qrels/--run (they score a version)`,
    );
  if (!f.qrels || !f.run)
    throw new UsageError('--qrels and --run go together: embctl evaluate --qrels <qrels file> --run <run file>');
  const errors: InputError[] = [];
  const [qrels, run] = await Promise.all([
    readQrelsFile(f.qrels).catch((e: unknown) => keep(e, errors)),
    readRunFile(f.run).catch((e: unknown) => keep(e, errors)),
  ]);
  throwAll(errors, `Cannot score ${f.run} against ${f.qrels}`);
  const result = evaluateRun(qrels!, run!, {
    measures: f.measure ?? ['official'],
    relevanceLevel: f.level,
    completeQueries: f.complete,
    judgedOnly: f.judgedOnly,
    maxRetrieved: f.maxRetrieved,
  });
  if (result.numQueries === 0) {
    throw new InputError(`No query of ${f.run} is in ${f.qrels}: nothing to score (are these the right files?)`);
  }
  const runId = await lastRunId(f.run);
  const noSummary = f.summary === false;
  ctx.out.result({
    runid: runId,
    num_q: result.numQueries,
    ...(noSummary ? {} : { all: summaryValues(result) }),
    ...(f.perQuery ? { per_query: perQueryValues(result) } : {}),
  });
  if (!ctx.out.json) process.stdout.write(formatTrecEval(result, { perQuery: f.perQuery, noSummary, runId }));
}

/** The `all` values trec_eval prints (runid and num_q are separate keys). */
function summaryValues(result: EvaluationResult): Record<string, number> {
  const out: Record<string, number> = {};
  for (const c of result.columns)
    if (c.summary && c.value !== 'runid' && c.name !== 'num_q') out[c.name] = result.all[c.name] ?? 0;
  return out;
}

/** The per-query values trec_eval prints with -q (relstring as text; not gm_map or gm_bpref). */
function perQueryValues(result: EvaluationResult): Record<string, Record<string, number | string>> {
  const out: Record<string, Record<string, number | string>> = {};
  for (const [qid, values] of result.perQuery) {
    const row: Record<string, number | string> = {};
    for (const c of result.columns) {
      if (!c.perQuery) continue;
      if (c.value === 'text') row[c.name] = result.text.get(qid)?.[c.name] ?? '';
      else if (values[c.name] !== undefined) row[c.name] = values[c.name]!;
    }
    out[qid] = row;
  }
  return out;
}

/** The run id column of the run's last line: trec_eval prints that one as `runid`. */
async function lastRunId(path: string): Promise<string> {
  const text = await readFile(path, 'utf8');
  let id = 'embctl';
  for (const line of text.split('\n')) {
    const t = line.trim();
    if (t && !t.startsWith('#')) id = t.split(/\s+/)[5] ?? id;
  }
  return id;
}

/** Keep an input error to report with the others; rethrow anything else. */
function keep(e: unknown, into: InputError[]): null {
  if (e instanceof InputError) into.push(e);
  else throw e;
  return null;
}

/** One error as it is; several as one error listing each one's problems under its message. */
function throwAll(errors: InputError[], summary: string): void {
  if (errors.length === 1) throw errors[0]!;
  if (errors.length > 1)
    throw new InputError(
      summary,
      errors.flatMap((e) => [e.message, ...e.details.map((d) => `  ${d}`)]),
    );
}

async function versionMode(ctx: CliContext, f: EvaluateFlags): Promise<void> {
  refuseUnsupportedFlags(f);
  const misplaced = [...TREC_ONLY.filter((k) => f[k] !== undefined), ...(f.summary === false ? ['noSummary'] : [])];
  if (misplaced.length) throw new UsageError(`${misplaced.map(flagName).join(', ')} apply to --qrels/--run only`);
  if (f.key !== undefined && !isKeyKind(f.key)) throw new UsageError(`--key must be document_id or semantic_key`);
  const ks = f.cutoffs !== undefined ? parseKs(f.cutoffs) : undefined;

  // Inputs first, all of them, before touching the database.
  const gatesPath = f.gates ?? (f.gate ? findDefaultGatesFile() : undefined);
  if (f.gate && !gatesPath)
    throw new UsageError(
      '--gate needs gates: pass --gates <file> or create evals/gates.json (see evals/gates.example.yaml)',
    );
  const errors: InputError[] = [];
  const judgedPath = f.judged ?? findDefaultJudgedSet();
  const [gates, judgedSet] = await Promise.all([
    gatesPath ? readGatesFile(gatesPath).catch((e: unknown) => keep(e, errors)) : Promise.resolve(null),
    loadJudgedSet(judgedPath, {
      queries: f.queries,
      keyKind: f.key as JudgedSet['keyKind'] | undefined,
      split: f.split,
    }).catch((e: unknown) => keep(e, errors)),
  ]);
  throwAll(errors, 'Invalid gates file and judged set');
  if (gates) checkGatesAgainstSet(gates, judgedSet!);

  const db = await ctx.db();
  await requireSchema(db);
  const { candidate, baseline } = await pickEvaluationVersions(db.kysely, {
    version: f.version,
    baseline: f.baseline,
    gates,
  });
  if (f.gate) await checkGateCanary(ctx, db, candidate);

  // Searches exactly as users' searches run (ANN index and all).
  const retriever = createSearchRetriever(db, ctx.encoderDeps());
  const progress = createProgress(ctx.logger);
  let report;
  try {
    report = await runEvaluation(db, {
      candidate,
      baseline,
      judgedSet: judgedSet!,
      retriever,
      ks,
      gates: gates as GatesConfig | null,
      gated: Boolean(f.gate),
      record: f.record,
      actor: ctx.config.actorName,
      concurrency: f.concurrency,
      judges: f.judges
        ?.split(',')
        .map((j) => j.trim())
        .filter(Boolean),
      judgedOnly: f.judgedOnly,
      onProgress: (p) => {
        const version = p.baseline ? `${p.version} (baseline)` : p.version;
        progress.update(`evaluating ${version}: ${p.done}/${p.total} queries`, {
          version,
          done: p.done,
          total: p.total,
        });
      },
      onWarning: (m) => ctx.logger.warn(m),
    });
  } finally {
    progress.done();
    await retriever.close?.();
  }

  if (f.report) writeOutputFile(f.report, renderMarkdown(report), 'Markdown report');
  if (f.junit) writeOutputFile(f.junit, renderJUnit(report), 'JUnit report');
  if (f.exportRun)
    writeOutputFile(f.exportRun, formatTrecRun(report.candidate.run, `embctl-${candidate.version_key}`), 'run file');

  const c = report.candidate;
  ctx.out.result({
    run_id: report.runId,
    version: candidate.version_key,
    baseline: report.baseline?.version?.key ?? null,
    judged_set: {
      name: c.judgedSet.name,
      sha256: c.judgedSet.sha256,
      queries: c.judgedSet.queries,
      key: c.judgedSet.keyKind,
    },
    ks: c.ks,
    overall: byAlias(c.overall.values, c.measures),
    segments: Object.fromEntries(
      c.segments.map((s) => [s.segment, { queries: s.queries, ...byAlias(s.values, c.measures) }]),
    ),
    baseline_overall: report.baseline ? byAlias(report.baseline.overall.values, c.measures) : null,
    gates: report.outcomes.map((o) => ({
      name: o.name,
      status: o.status,
      message: o.message,
      value: o.value,
      p_value: o.comparison?.pValue ?? null,
    })),
    gated: report.gated,
    passed: report.passed,
    labels: report.labels ?? null,
  });
  ctx.out.line(renderTable(report));
  for (const line of coverageLines(report)) ctx.out.line(line);
  if (report.runId)
    ctx.out.line(
      `recorded as evaluation run ${report.runId}${report.gated ? ` (gated: ${report.passed ? 'gate_passed' : 'gate_failed'})` : ''}`,
    );
  for (const [flag, path] of [
    ['report', f.report],
    ['junit', f.junit],
    ['run', f.exportRun],
  ] as const)
    if (path) ctx.out.line(`${flag}: ${path}`);
  if (f.gate && report.passed === false) {
    const failed = report.outcomes.filter((o) => o.status === 'failed');
    if (failed.length === 0) {
      throw new RefusedError(
        `gate failed for ${candidate.version_key}: every gate was skipped, so nothing was checked; add an absolute gate or pass --baseline <key>`,
        report.outcomes.map((o) => o.message),
        { code: 'gate_failed' },
      );
    }
    throw new RefusedError(
      `gate failed for ${candidate.version_key}: ${failed.length} of ${report.outcomes.length} gate(s) failed; activation will refuse it until a gated run passes`,
      failed.map((o) => o.message),
      { code: 'gate_failed' },
    );
  }
  if (gates && !f.gate && report.passed === false)
    ctx.out.line('(gates failed, but without --gate this is informational: exit 0)');
}
