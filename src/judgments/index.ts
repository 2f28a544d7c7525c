// The public surface of src/judgments/: other folders import from here only.
export { latestCalibration, latestCalibrationOfBase, recordCalibration } from './calibrations.js';
export type { CalibrationRow, NewCalibration } from './calibrations.js';
export { HUMAN_SOURCE, SET_SOURCE, addJudgments } from './labels.js';
export type { LabelSource, LabelledSet } from './labels.js';
export { querySha256 } from './query-hash.js';
export {
  deleteFailed,
  gradedJudgments,
  insertJudgments,
  judgeCounts,
  pairKey,
  storedPairs,
  upsertLabels,
} from './store.js';
export type { JudgmentRow, NewJudgment } from './store.js';
