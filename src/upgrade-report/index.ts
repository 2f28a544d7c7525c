/** The upgrade report: load the model from the database, render one self-contained HTML file. */
import { writeOutputFile } from '../util/index.js';
import type { Db } from '../db/index.js';
import { loadReportModel, type LoadReportOptions } from './model.js';
import { renderReport, type RenderOptions } from './render/page.js';
import type { ReportModel } from './types.js';

export { loadReportModel, redactDetails, bucketSecondsFor, type LoadReportOptions } from './model.js';
export { renderReport, type RenderOptions } from './render/page.js';
export { figure, CHART_NAMES, type ChartName } from './render/common.js';
export { adaptEvaluation, type AdaptableRun, type AdaptedEvaluation } from './evaluation/adapt.js';
export { computeVerdict } from './verdict.js';
export type * from './types.js';

/** Write the HTML next to its final name, then rename: a reader never sees half a report. */
export function writeReportFile(path: string, html: string): string {
  return writeOutputFile(path, html, 'report');
}

/** Load, render and write the report; returns the absolute path and the model. */
export async function generateReport(
  db: Db,
  opts: LoadReportOptions & RenderOptions & { out: string },
): Promise<{ path: string; model: ReportModel }> {
  const model = await loadReportModel(db, opts);
  const path = writeReportFile(opts.out, renderReport(model, opts));
  return { path, model };
}
