// The public surface of src/encoders/: other folders import from here only.
export { EncoderDimensionsError } from './dimensions-error.js';
export { createEncoder, identityHash, resolveSettings } from './factory.js';
export type { EncoderDeps, EncoderSettings } from './factory.js';
export { HASH_VARIANTS, createHashEncoder } from './hash/index.js';
export { createLocalEncoder } from './local/index.js';
export type { LocalEncoderOptions } from './local/index.js';
// The local model plumbing the `cross-encoder:` judge shares with `local:` (folders, revisions, transformers.js).
export {
  defaultModelCacheDir,
  downloadModel,
  hashModelFolder,
  loadPairTokenizer,
  loadSequenceClassifier,
  locateModel,
  maxInputTokens,
  readModelInfo,
  requireOnnxFile,
} from './local/index.js';
export type { ModelInfo, ModelLocation, PairTokenizerLike, SequenceClassifierLike, TensorLike } from './local/index.js';
export { createOpenAIEncoder } from './openai/index.js';
export type { OpenAIEncoderOptions } from './openai/index.js';
export { textIndexOf } from './output-error.js';
export { parseEncoderSpec } from './spec.js';
export type { EmbedOptions, Encoder, EncoderEvent, EncoderIdentity } from './types.js';
