export { createOpenAIEncoder, type OpenAIEncoder, type OpenAIEncoderOptions } from './encoder.js';
export {
  OPENAI_MODELS,
  OPENAI_MAX_BATCH_ITEMS,
  OPENAI_MAX_BATCH_TOKENS,
  knownModel,
  type KnownModel,
} from './models.js';
export { OPENAI_DEFAULT_BASE_URL } from './connection.js';
export {
  BatchApiUnsupportedError,
  REMOTE_BATCH_STATUSES,
  TERMINAL_BATCH_STATUSES,
  createOpenAIBatchApi,
  type BatchApiOptions as OpenAIBatchApiOptions,
  type OpenAIBatchApi,
  type RemoteBatch,
  type RemoteBatchStatus,
} from './batch-api.js';
export { validateEmbeddings } from './validate.js';
