import type { Command } from 'commander';
import { loadReportModel, renderReport, writeReportFile } from '../../upgrade-report/index.js';
import { requireSchema } from '../schema-guard.js';
import type { CliContext } from '../context.js';

interface ReportFlags {
  out?: string;
  candidate?: string;
  baseline?: string;
}

export function registerReport(program: Command, ctx: CliContext): void {
  program
    .command('report')
    .description(
      'write the upgrade report: one self-contained HTML file with the lifecycle, evaluation, shadow, latency and backfill evidence',
    )
    .option('--out <file>', 'HTML file to write (default: report.html)')
    .option(
      '--candidate <key>',
      'version to report on (default: the most recently evaluated or activated version that is not retired)',
    )
    .option(
      '--baseline <key>',
      'version to compare with (default: the one the candidate was evaluated against, else the previously active one)',
    )
    .addHelpText(
      'after',
      `
With --json, prints the report's data model instead (and writes the HTML only when --out is given).

Examples:
  $ embctl report
  $ embctl report --out reports/v2.html --candidate v2 --baseline v1
  $ embctl report --json | jq '.evaluation.gates[] | select(.passed | not)'`,
    )
    .action(async (f: ReportFlags) => {
      const db = await ctx.db();
      await requireSchema(db);
      const model = await loadReportModel(db, { candidate: f.candidate, baseline: f.baseline });
      const o = ctx.out;
      if (o.json) {
        if (f.out) writeReportFile(f.out, renderReport(model, { generator: 'embctl' }));
        o.result(model);
        return;
      }
      const path = writeReportFile(f.out ?? 'report.html', renderReport(model, { generator: 'embctl' }));
      o.line(`wrote ${path}`);
      o.line(`  ${model.verdict.headline}`);
    });
}
