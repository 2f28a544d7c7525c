export { createCrossEncoderJudge, crossEncoderJudge, crossEncoderJudgeId } from './judge.js';
export { DEFAULT_BATCH_PAIRS, type CrossEncoderJudgeOptions, type CrossEncoderLoadOptions } from './options.js';
export { loadCrossEncoder, type CrossEncoder, type CrossEncoderIdentityBase } from './scorer.js';
