// The public surface of src/judge/: other folders import from here only.
export { calibrateJudge, baseOf, type CalibrateOptions, type CalibrationResult } from './calibrate.js';
export { costOfPairs, type JudgeCost } from './cost.js';
export { judgeVersion, type JudgeReport, type JudgeVersionOptions, type QuerySource } from './judge-pool.js';
export { formatPool, importLabels, labelsFormat, parseLabels, type ImportSummary } from './labels-file.js';
export { crossEncoderBase, loadScorer, makeJudge, type MadeJudge, type MakeJudgeOptions } from './make-judge.js';
export { passageTexts } from './passages.js';
export { buildPool, type Pool, type PoolPair, type PoolQuery } from './pool.js';
export { judgedSetQueries, shadowQueries } from './queries.js';
export { judgeBatches, judgePool, type JudgeProgress, type JudgeRunSummary, type StopReason } from './run.js';
export { fitThresholds } from './thresholds.js';
