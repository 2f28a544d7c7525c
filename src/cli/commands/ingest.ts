import { Command, Option } from 'commander';
import { describeSkipped, ingest, type IngestReport } from '../../ingest/index.js';
import { syncAndReport } from '../backfill-output.js';
import type { CliContext } from '../context.js';
import { requireSchema } from '../schema-guard.js';
import { collect, intOption } from '../options.js';
import { createProgress } from '../progress.js';
import { warnPastEmbeddedCeiling } from '../ceiling-hint.js';

interface IngestFlags {
  format: 'auto' | 'jsonl' | 'beir' | 'text';
  include?: string[];
  exclude?: string[];
  chunkSize?: number;
  chunkOverlap?: number;
  prune?: boolean;
  skipInvalid?: boolean;
  dryRun?: boolean;
  sync?: boolean;
}

export function registerIngest(program: Command, ctx: CliContext): void {
  program
    .command('ingest <path...>')
    .description('ingest files, folders and JSONL into stable chunks (idempotent); - reads JSONL from stdin')
    .addOption(
      new Option('--format <format>', 'how to read inputs').choices(['auto', 'jsonl', 'beir', 'text']).default('auto'),
    )
    .option('--include <glob>', 'in folders, only files matching (repeatable)', collect)
    .option('--exclude <glob>', 'in folders, skip matching files and folders (repeatable)', collect)
    .option('--chunk-size <chars>', 'chunk size in characters (default 1000)', intOption(50, 100_000))
    .option('--chunk-overlap <chars>', 'characters repeated between chunks (default 100)', intOption(0, 50_000))
    .option('--prune', 'retire documents absent from this input')
    .option('--skip-invalid', 'ingest the valid records and list the invalid ones (default: reject the run)')
    .option('--dry-run', 'read, validate and compare; write nothing')
    .option('--sync', 'afterwards, embed new chunks for every live version (embctl sync)')
    .addHelpText(
      'after',
      `
Examples:
  $ embctl ingest docs/                       # .md/.txt/.jsonl files, recursively
  $ embctl ingest corpus.jsonl --prune        # retire documents no longer in the export
  $ embctl ingest notes/ --include '**/*.md' --exclude drafts
  $ cat export.jsonl | embctl ingest - --skip-invalid --sync`,
    )
    .action(async (paths: string[], f: IngestFlags) => {
      const db = await (f.dryRun ? ctx.db() : ctx.writableDb('ingest'));
      await requireSchema(db);
      const progress = createProgress(ctx.logger, { quiet: ctx.out.json });
      let report: IngestReport;
      try {
        report = await ingest(
          db,
          paths,
          {
            format: f.format,
            include: f.include,
            exclude: f.exclude,
            chunkSize: f.chunkSize,
            chunkOverlap: f.chunkOverlap,
            prune: f.prune,
            skipInvalid: f.skipInvalid,
            dryRun: f.dryRun,
          },
          {
            logger: ctx.logger,
            onProgress: (p) =>
              progress.update(
                `${p.phase}: ${p.documents}${p.totalDocuments ? `/${p.totalDocuments}` : ''} documents, ${p.chunks} chunks`,
                { ...p },
              ),
          },
        );
      } finally {
        progress.done();
      }
      ctx.out.result(report);
      const c = report.chunks;
      ctx.out.line(
        `${report.dryRun ? 'dry run: would ingest' : 'ingested'} ${report.documents} documents in ${report.seconds}s: ` +
          `${c.new} new chunks, ${c.unchanged} unchanged, ${c.retired} retired` +
          (c.unretired ? `, ${c.unretired} restored` : '') +
          (c.metadataUpdated ? `, ${c.metadataUpdated} metadata updated` : '') +
          (report.documentsPruned ? ` (${report.documentsPruned} documents pruned)` : ''),
      );
      const skipped = describeSkipped(report);
      if (skipped.length) {
        ctx.out.line(`skipped ${skipped.length} invalid input(s):`);
        for (const s of skipped) ctx.out.line(`  ${s}`);
      }
      if (!f.dryRun) await warnPastEmbeddedCeiling(ctx, db);
      if (f.sync && !f.dryRun) await syncAndReport(ctx, 2);
    });
}
