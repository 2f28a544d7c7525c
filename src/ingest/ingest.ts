import { sql, type Kysely } from 'kysely';
import type { Db } from '../db/index.js';
import type { DB } from '../db/index.js';
import { EmbctlError, InputError, WriteFailedError } from '../errors.js';
import type { Logger } from '../log/index.js';
import { applyBatch, type AppliedBatch } from './apply.js';
import { resolveIngestOptions } from './options.js';
import { prepareDocument, type PreparedDocument } from './prepare.js';
import { formatProblem, invalidInputError } from './problems.js';
import { pruneAbsent } from './prune.js';
import { readSource } from './read.js';
import { checkInputs, listSources, type SourceOptions } from './sources.js';
import { spoolStdin } from './stdin.js';
import type { IngestOptions, IngestProblem, IngestProgress, IngestReport, SourceDocument } from './types.js';
import type { OnProgress } from '../util/index.js';
import { locationOf, validateInputs, type Validation } from './validate.js';

export interface IngestDeps {
  logger: Logger;
  onProgress?: OnProgress<IngestProgress>;
  /** Where `-` reads from (default process.stdin). */
  stdin?: NodeJS.ReadableStream;
}

/**
 * `embctl ingest`: read files, folders and JSONL, chunk, and bring
 * `document_chunks` to match. Two passes: the first validates everything
 * (and rejects the run, writing nothing, on any problem unless skipInvalid);
 * the second writes in batches, one transaction per batch, so a document's
 * new chunks and its retired ones always land together.
 */
export async function ingest(
  db: Db,
  inputs: readonly string[],
  options: IngestOptions,
  deps: IngestDeps,
): Promise<IngestReport> {
  const started = performance.now();
  const opts = resolveIngestOptions(options);
  const log = deps.logger.child({ cmd: 'ingest' });
  const args = await checkInputs(inputs);
  const stdin = args.some((a) => a.type === 'stdin') ? await spoolStdin(deps.stdin ?? process.stdin) : undefined;
  try {
    const srcOpts: SourceOptions = {
      format: opts.format,
      include: opts.include,
      exclude: opts.exclude,
      stdinPath: stdin?.path,
    };

    // One connection for the whole run: the validation pass's ids live in its temporary table.
    return await db.kysely.connection().execute(async (conn) => {
      const v = await validateInputs(conn, args, srcOpts, deps.onProgress);
      try {
        return await writeInputs(conn, v, { args, inputs, srcOpts, opts, log, deps, started });
      } finally {
        await v.seen.drop().catch(() => {});
      }
    });
  } finally {
    stdin?.cleanup();
  }
}

interface WriteContext {
  args: Awaited<ReturnType<typeof checkInputs>>;
  inputs: readonly string[];
  srcOpts: SourceOptions;
  opts: ReturnType<typeof resolveIngestOptions>;
  log: Logger;
  deps: IngestDeps;
  started: number;
}

/** The second pass: write the valid documents in batches, then prune. */
async function writeInputs(conn: Kysely<DB>, v: Validation, ctx: WriteContext): Promise<IngestReport> {
  const { args, inputs, srcOpts, opts, log, deps, started } = ctx;
  log.debug({ documents: v.validDocuments, problems: v.problemCount }, 'input validated');
  if (v.problemCount > 0 && !opts.skipInvalid) throw invalidInputError(v.problems, v.problemCount);
  if (v.validDocuments === 0) {
    throw new InputError(
      `no valid documents in ${inputs.join(' ')}; nothing was ingested`,
      v.problems.map(formatProblem),
    );
  }
  if (opts.prune && v.problemsWithoutId > 0) {
    log.warn(
      { records: v.problemsWithoutId },
      'prune: some skipped records have no readable id; their documents are treated as absent',
    );
  }

  const report: IngestReport = {
    documents: 0,
    documentsChanged: 0,
    documentsPruned: 0,
    chunks: { new: 0, unchanged: 0, retired: 0, metadataUpdated: 0, unretired: 0 },
    skipped: opts.skipInvalid ? [...v.problems] : [],
    dryRun: opts.dryRun,
    seconds: 0,
  };
  let chunksSoFar = 0;
  let batch: { doc: SourceDocument; loc: number; source: string; line: number }[] = [];
  let batchNo = 0;
  const flush = async () => {
    if (batch.length === 0) return;
    const items = batch;
    batch = [];
    // The first record of an id wins; the others were reported by the validation pass.
    const first = await v.seen.firstOf(items.map((i) => i.doc.id));
    const docs: PreparedDocument[] = [];
    for (const i of items) {
      const f = first.get(i.doc.id);
      if (f === undefined) {
        report.skipped.push(
          changed({
            source: i.source,
            line: i.line || undefined,
            documentId: i.doc.id,
            reason: 'not present when the input was validated',
          }),
        );
      } else if (f === i.loc) {
        const prepared = prepareDocument(i.doc, { size: opts.chunkSize, overlap: opts.chunkOverlap });
        chunksSoFar += prepared.chunks.length;
        docs.push(prepared);
      }
    }
    if (docs.length === 0) return;
    batchNo++;
    const r = await writeBatch(conn, docs, opts.dryRun, batchNo, report.documents);
    add(report, r, docs.length);
    log.debug({ batch: batchNo, documents: docs.length, ...r }, 'batch written');
    deps.onProgress?.({
      phase: 'writing',
      documents: report.documents,
      chunks: chunksSoFar,
      totalDocuments: v.validDocuments,
    });
  };

  for await (const source of listSources(args, srcOpts)) {
    for await (const item of readSource(source)) {
      if (!item.ok) {
        if (!v.problemAt.has(locationOf(source.no, item.line))) {
          report.skipped.push(
            changed({
              source: source.display,
              line: item.line || undefined,
              documentId: item.documentId,
              reason: item.reason,
            }),
          );
        }
        continue;
      }
      batch.push({ doc: item.doc, loc: locationOf(source.no, item.line), source: source.display, line: item.line });
      if (batch.length >= opts.batchSize) await flush();
    }
  }
  await flush();

  if (opts.prune) {
    deps.onProgress?.({
      phase: 'pruning',
      documents: report.documents,
      chunks: chunksSoFar,
      totalDocuments: v.validDocuments,
    });
    const pruned = await conn.transaction().execute(async (trx) => {
      await lockIngest(trx);
      return pruneAbsent(trx, opts.dryRun);
    });
    report.documentsPruned = pruned.documents;
    report.chunks.retired += pruned.chunks;
  }
  if (!opts.dryRun && (report.chunks.new || report.chunks.retired || report.chunks.unretired)) {
    // Fresh statistics for the planner (PGlite has no autovacuum to do it).
    await sql`analyze document_chunks`.execute(conn);
  }
  report.seconds = Math.round((performance.now() - started) / 10) / 100;
  log.info({ ...report, skipped: report.skipped.length }, opts.dryRun ? 'ingest dry run finished' : 'ingest finished');
  return report;
}

async function writeBatch(
  conn: Kysely<DB>,
  docs: PreparedDocument[],
  dryRun: boolean,
  batchNo: number,
  before: number,
): Promise<AppliedBatch> {
  try {
    return await conn.transaction().execute(async (trx) => {
      await lockIngest(trx);
      return applyBatch(trx, docs, dryRun);
    });
  } catch (e) {
    if (e instanceof EmbctlError) throw e;
    // The batch is the unit of an ingest: earlier ones are committed, and the
    // rerun finds them unchanged and writes the rest (README: "ingest").
    const written = before ? `the ${before} documents of earlier batches are written` : 'nothing was written';
    throw new WriteFailedError(
      `ingest failed while writing batch ${batchNo} (documents ${before + 1} to ${before + docs.length}): ${String((e as Error)?.message ?? e).split('\n')[0]}; ` +
        `that batch was rolled back, ${written}; fix the cause and run the same ingest again to write the rest`,
      [],
      { cause: e },
    );
  }
}

/** Concurrent ingests write one batch at a time, each reading what the last one wrote. */
async function lockIngest(trx: Kysely<DB>): Promise<void> {
  await sql`select pg_advisory_xact_lock(${INGEST_LOCK})`.execute(trx);
}
const INGEST_LOCK = 0x656d6267; // "embg"

function add(report: IngestReport, r: AppliedBatch, documents: number): void {
  report.documents += documents;
  report.documentsChanged += r.documentsChanged;
  report.chunks.new += r.new;
  report.chunks.unchanged += r.unchanged;
  report.chunks.retired += r.retired;
  report.chunks.metadataUpdated += r.metadataUpdated;
  report.chunks.unretired += r.unretired;
}

function changed(p: IngestProblem): IngestProblem {
  return { ...p, reason: `${p.reason} (the input changed during the ingest)` };
}

/** One line per skipped input, for a CLI. */
export function describeSkipped(report: IngestReport): string[] {
  return report.skipped.map(formatProblem);
}
