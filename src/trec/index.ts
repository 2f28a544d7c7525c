/**
 * trec: a dependency-free port of trec_eval (usnistgov/trec_eval f4253652):
 * qrels and run files, every measure of `-m all_trec` with its flags, and
 * its exact printing. Nothing here knows about databases or versions.
 */
export type {
  Qrels,
  Run,
  ScoredDoc,
  MeasureValues,
  MeasureColumn,
  EvaluateOptions,
  EvaluationResult,
} from './types.js';
export { parseQrels, parseRun, readQrelsFile, readRunFile, type ParseOptions } from './trec-files.js';
export { evaluateRun, resolveMeasures, aggregate, MIN_GEO_MEAN } from './evaluate-run.js';
export {
  toTrecName,
  toAlias,
  parseMeasure,
  measureRange,
  isGeometricMean,
  DEFAULT_CUTOFFS,
  type MeasureSpec,
  type MeasureFamily,
} from './measures.js';
export { DEFAULT_MEASURES } from './measure-plan.js';
export type { MeasureInstance } from './measure-types.js';
export { formatFixed, formatTrecValue } from './format-fixed.js';
export { trecOrder, compareCodePoints } from './ranking.js';
export { collectQrels } from './trec-files.js';
