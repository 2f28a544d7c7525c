// The public surface of src/judges/: other folders import from here only.
export { gradeByThresholds, parseJudgeSpec, thresholdsProblem } from './spec.js';
export type { JudgeProvider, ParsedJudgeSpec } from './spec.js';
export { HUMAN_JUDGE, MAX_JUDGE_GRADE } from './types.js';
export type { Judge, JudgeIdentity, JudgeKind, JudgeOptions, JudgePair, JudgePricing, JudgeVerdict } from './types.js';
export {
  createCrossEncoderJudge,
  crossEncoderJudge,
  loadCrossEncoder,
  type CrossEncoder,
  type CrossEncoderIdentityBase,
  type CrossEncoderJudgeOptions,
  type CrossEncoderLoadOptions,
} from './cross-encoder/index.js';
export { UMBRELA_PROMPT, createOpenAIJudge } from './openai/index.js';
export type { JudgePrompt, OpenAIJudgeOptions } from './openai/index.js';
