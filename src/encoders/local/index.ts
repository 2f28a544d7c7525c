export { createLocalEncoder, type LocalEncoder } from './local-encoder.js';
export {
  defaultModelCacheDir,
  DEFAULT_MAX_BATCH_ITEMS,
  type LocalEncoderOptions,
  type LocalPooling,
} from './options.js';
export { hashModelFolder } from './folder-hash.js';
