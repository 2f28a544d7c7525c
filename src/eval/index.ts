/** Public surface of the evaluation module: trec_eval-exact metrics, statistics, judged sets. */
export type { Qrels, Run, ScoredDoc, MeasureValues, MeasureColumn, EvaluateOptions, EvaluationResult } from './types.js';
export { parseQrels, parseRun, readQrelsFile, readRunFile, type ParseOptions } from './trec-files.js';
export { evaluateRun, resolveMeasures, aggregate, MIN_GEO_MEAN } from './metrics.js';
export {
  toTrecName, toAlias, parseMeasure, measureRange, isGeometricMean, DEFAULT_CUTOFFS, type MeasureSpec, type MeasureFamily,
} from './measures.js';
export { DEFAULT_MEASURES } from './measure-plan.js';
export type { MeasureInstance } from './measure-types.js';
export { formatFixed, formatTrecValue } from './format-fixed.js';
export { trecOrder, compareCodePoints } from './ranking.js';
export {
  randomizationTest, bootstrapConfidenceInterval, alignByQuery, pairedDifferences, DEFAULT_SEED,
  type RandomizationOptions, type RandomizationResult, type BootstrapOptions, type BootstrapResult,
} from './stats.js';
export { createRandom, type Random } from './prng.js';
export {
  canonicalJudgedSet, judgedSetQrels, toJudgedSetJsonl, isKeyKind, KEY_KINDS,
  type JudgedSet, type JudgedQuery, type KeyKind, type JudgedSetOptions,
} from './judged-set.js';
export { parseJudgedSetJsonl, readJudgedSetJsonl } from './judged-jsonl.js';
export { parseTrecJudgedSet, readTrecJudgedSet, type TrecJudgedSetInput } from './judged-trec.js';
export { readBeirJudgedSet, type BeirOptions } from './judged-beir.js';
export { loadJudgedSet, type LoadJudgedSetOptions } from './load-judged-set.js';
