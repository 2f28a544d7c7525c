export { createLocalEncoder, type LocalEncoder } from './local-encoder.js';
export {
  defaultModelCacheDir,
  DEFAULT_MAX_BATCH_ITEMS,
  type LocalEncoderOptions,
  type LocalPooling,
} from './options.js';
export { hashModelFolder } from './folder-hash.js';
export { locateModel, type ModelLocation } from './locate-model.js';
export { maxInputTokens, readModelInfo, requireOnnxFile, type ModelInfo } from './model-info.js';
export {
  downloadModel,
  loadPairTokenizer,
  loadSequenceClassifier,
  type PairTokenizerLike,
  type SequenceClassifierLike,
  type TensorLike,
} from './transformers-runtime.js';
