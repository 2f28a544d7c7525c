/** Public surface of `evaluate`: run judged sets against versions, gate, record, render. */
export type { Retriever, RetrievedChunk, VersionEvaluation, QueryScore, SegmentScore, SearchLatency } from './types.js';
export { NO_SEGMENT, OVERALL } from './types.js';
export { DEFAULT_KS, parseKs, measureList, label } from './measures.js';
export { rankedKeys } from './collapse.js';
export { scoreJudgedRun, type JudgedScores } from './score.js';
export {
  evaluateVersion,
  searchQuery,
  MAX_SEARCH_DEPTH,
  type EvaluateVersionOptions,
  type EvaluationProgress,
} from './evaluate-version.js';
export { compareMeasure, compareEvaluations, type Comparison, type ComparisonOptions } from './compare.js';
export {
  parseGates,
  readGatesFile,
  findDefaultGatesFile,
  checkGatesAgainstSet,
  DEFAULT_GATES_FILES,
  DEFAULT_ALPHA,
  type Gate,
  type GatesConfig,
} from './gates-file.js';
export { applyGates, gatesPassed, type GateOutcome, type GateStatus } from './apply-gates.js';
export { recordEvaluation, latestGatedRun, type EvaluationRunRow, type RecordInput } from './record.js';
export {
  parseStoredRun,
  type StoredRun,
  type StoredRunRow,
  type StoredMetrics,
  type StoredQuery,
  type StoredGate,
  type StoredComparison,
  type StoredSummary,
  type StoredLatency,
} from './stored-run.js';
export { runEvaluation, checkSearchable, type RunEvaluationOptions } from './run-evaluation.js';
export { decisionRule, type EvaluationOutcome } from './outcome.js';
export { renderTable } from './render-table.js';
export { renderMarkdown } from './render-markdown.js';
export { renderJUnit, xmlEscape } from './render-junit.js';
export { formatTrecRun, formatTrecEval } from './trec-output.js';
export { createExactRetriever, type ClosableRetriever } from './exact-retriever.js';
export { createSearchRetriever } from './search-retriever.js';
export { findDefaultJudgedSet, pickEvaluationVersions, type EvaluationVersions } from './defaults.js';
export { byAlias } from './record.js';
export { gateCanary, type GateCanaryDeps } from './canary-gate.js';
