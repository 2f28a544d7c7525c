import { Command } from 'commander';
import { calibrateVersion, createSearcher, parseFilters, type SearchResult } from '../../search/index.js';
import type { CliContext } from '../context.js';
import { collect, intOption, numberOption } from '../options.js';
import { requireSchema } from '../schema-guard.js';

interface SearchFlags {
  version?: string;
  k: number;
  filter?: string[];
  hybrid?: boolean;
  minScore?: number;
  efSearch?: number;
  probes?: number;
  exact?: boolean;
}

/** `embctl search "<query>"`. */
export function registerSearch(program: Command, ctx: CliContext): void {
  program
    .command('search <query>')
    .description('search the active version (or --version <key>) with its own encoder and index')
    .option('--version <key>', 'search this version instead of the active one')
    .option('-k, --k <n>', 'results wanted', intOption(1, 1000), 10)
    .option('--filter <key=value>', 'metadata must contain key=value (string) or key:=<json> (repeatable)', collect)
    .option('--hybrid', 'fuse full-text and vector results (reciprocal rank fusion)')
    .option(
      '--min-score <x>',
      'drop hits whose calibrated score (0-1) is below x; needs embctl versions calibrate',
      numberOption(0, 1),
    )
    .option('--ef-search <n>', 'HNSW ef_search for this query (default 200)', intOption(1, 1000))
    .option('--probes <n>', 'IVFFlat probes for this query (default max(10, sqrt(lists)))', intOption(1, 32768))
    .option('--exact', 'exact search, without the ANN index (the reference for recall)')
    .addHelpText(
      'after',
      `
The serving version is --version, else EMBCTL_PIN_VERSION (a process pin that
needs no database write), else the active version. Scores are per version:
--min-score applies to calibrated scores only.

Examples:
  $ embctl search "how do I rotate credentials"
  $ embctl search "rotate credentials" --version v2 -k 5 --json
  $ embctl search "refund policy" --filter lang=en --filter year:=2024 --hybrid
  $ embctl search "refund policy" --min-score 0.8`,
    )
    .action(async (query: string, f: SearchFlags) => {
      const db = await ctx.db();
      await requireSchema(db);
      const filters = f.filter?.length ? parseFilters(f.filter) : undefined;
      const searcher = createSearcher(db, {
        logger: ctx.logger,
        pinVersion: ctx.config.pinVersion,
        encoderDeps: ctx.encoderDeps(),
      });
      try {
        const r = await searcher.search({
          query,
          version: f.version,
          k: f.k,
          filters,
          hybrid: f.hybrid,
          minScore: f.minScore,
          efSearch: f.efSearch,
          probes: f.probes,
          exact: f.exact,
        });
        ctx.out.result(r);
        printResult(ctx, r);
      } finally {
        await searcher.close();
      }
    });
}

function printResult(ctx: CliContext, r: SearchResult): void {
  const o = ctx.out;
  const source = r.source === 'pinned' ? ' (pinned by EMBCTL_PIN_VERSION)' : r.source === 'active' ? ' (active)' : '';
  o.line(
    `version ${r.version}${source} · ${r.mode}${r.efSearch ? ` ef_search=${r.efSearch}` : ''}${r.probes ? ` probes=${r.probes}` : ''} · ${r.hits.length} hit${r.hits.length === 1 ? '' : 's'} · ${r.ms.toFixed(1)} ms`,
  );
  if (r.exactFallback) o.line(`note: ${r.exactFallback.reason}`);
  if (r.belowMinScore)
    o.line(`note: ${r.belowMinScore} hit${r.belowMinScore === 1 ? '' : 's'} below --min-score dropped`);
  if (r.hits.length === 0) return;
  const calibrated = r.hits.some((h) => h.calibratedScore !== undefined);
  const hybrid = r.mode === 'hybrid';
  o.table(
    [
      '#',
      'SCORE',
      ...(calibrated ? ['CAL'] : []),
      ...(hybrid ? ['RRF', 'VEC', 'TEXT'] : []),
      'DOCUMENT',
      'CHUNK',
      'TEXT',
    ],
    r.hits.map((h, i) => [
      i + 1,
      h.score.toFixed(4),
      ...(calibrated ? [h.calibratedScore!.toFixed(3)] : []),
      ...(hybrid ? [h.fusedScore!.toFixed(4), h.vectorRank ?? '-', h.textRank ?? '-'] : []),
      h.documentId,
      h.chunkNo,
      snippet(h.content),
    ]),
  );
}

function snippet(text: string, max = 80): string {
  const s = text.replace(/\s+/g, ' ').trim();
  return s.length <= max ? s : s.slice(0, max - 1) + '…';
}

/**
 * `embctl versions calibrate <key>`: attaches to the `versions` command, so
 * it must be registered after it.
 */
export function registerCalibrate(program: Command, ctx: CliContext): void {
  const versions = program.commands.find((c) => c.name() === 'versions');
  if (!versions) throw new Error('registerCalibrate must run after registerVersions');
  versions
    .command('calibrate <key>')
    .description('learn a score calibration for a version from its own score distribution (enables --min-score)')
    .option('--sample <n>', 'chunks used as queries', intOption(2, 100_000), 200)
    .option('-k, --k <n>', 'neighbours per query', intOption(1, 1000), 10)
    .option('--dry-run', 'compute and print, do not store')
    .addHelpText(
      'after',
      `
Raw scores are not comparable between models. Calibration maps a version's raw
score to its percentile among the top-k scores of sampled chunks (used as
queries), so --min-score 0.9 means "as close as the best 10%" for any version.

Examples:
  $ embctl versions calibrate v2
  $ embctl versions calibrate v2 --sample 1000 --json`,
    )
    .action(async (key: string, f: { sample: number; k: number; dryRun?: boolean }) => {
      const db = await ctx.db();
      await requireSchema(db);
      const cal = await calibrateVersion(db, key, { sample: f.sample, k: f.k, dryRun: f.dryRun, logger: ctx.logger });
      ctx.out.result({ version: key, stored: !f.dryRun, calibration: cal });
      ctx.out.line(
        `${f.dryRun ? 'computed (not stored)' : 'calibrated'} ${key} from ${cal.sample} queries × top-${cal.k}:`,
      );
      ctx.out.table(
        ['PERCENTILE', 'RAW SCORE'],
        cal.points.map(([raw, q]) => [Math.round(q * 100), Number(raw.toFixed(4))]),
      );
    });
}
