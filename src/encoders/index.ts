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
// The Batch API (backfill --batch-api) and the response check its output lines go through.
export {
  BatchApiUnsupportedError,
  REMOTE_BATCH_STATUSES,
  TERMINAL_BATCH_STATUSES,
  createOpenAIBatchApi,
  validateEmbeddings,
  type OpenAIBatchApi,
  type OpenAIBatchApiOptions,
  type RemoteBatch,
  type RemoteBatchStatus,
} from './openai/index.js';
export type { OpenAIEncoderOptions } from './openai/index.js';
export { textIndexOf } from './output-error.js';
export { parseEncoderSpec } from './spec.js';
export type { EmbedOptions, Encoder, EncoderEvent, EncoderIdentity } from './types.js';
// Shared with the `openai:<chat model>` judge (src/judges/openai/): connection, retries, errors, tokens.
export {
  OPENAI_DEFAULT_BASE_URL,
  createOpenAIClient,
  resolveOpenAIConnection,
  type OpenAIConnection,
} from './openai/connection.js';
export { BatchFailure as OpenAIRequestFailure, withRetries, type RetryConfig } from './openai/retry.js';
export { safeText } from './openai/classify.js';
export { toEncoderError as toOpenAIError } from './openai/errors.js';
export { approxTokenizer, cl100kTokenizer, o200kTokenizer, type Tokenizer } from './openai/tokens.js';
