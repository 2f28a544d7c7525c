/**
 * Options of the `local:` encoder, their defaults and their validation
 * (every problem reported at once, as an InputError).
 */
import { homedir } from 'node:os';
import { join } from 'node:path';
import { InputError } from '../../errors.js';

export type LocalPooling = 'mean' | 'cls';

export interface LocalEncoderOptions {
  /** A model folder (absolute or relative path) or a model id such as `Xenova/all-MiniLM-L6-v2`. */
  model: string;
  /** Default: the model's own (`1_Pooling/config.json` of a sentence-transformers folder), else `mean`. */
  pooling?: LocalPooling;
  /** L2-normalise every vector. Default true. */
  normalize?: boolean;
  /** Allow downloading a model id that is not in `cacheDir`. Default false: never touch the network. */
  allowRemote?: boolean;
  /** Where model ids are looked up (`<cacheDir>/<id>/`) and downloaded to. Default `defaultModelCacheDir()`. */
  cacheDir?: string;
  /** Most texts one `embed` call carries to the model at once. Default 32. */
  maxBatchItems?: number;
  /** ONNX weights variant: fp32 (`onnx/model.onnx`), q8 (`onnx/model_quantized.onnx`), fp16, ... */
  dtype?: string;
}

export interface ResolvedLocalOptions {
  model: string;
  pooling: LocalPooling | undefined;
  normalize: boolean;
  allowRemote: boolean;
  cacheDir: string;
  maxBatchItems: number;
  dtype: string | undefined;
}

export const DEFAULT_MAX_BATCH_ITEMS = 32;

/** ONNX file suffix per dtype, as @huggingface/transformers v3 names them (utils/dtypes.js). */
export const DTYPE_FILE_SUFFIX: Readonly<Record<string, string>> = Object.freeze({
  fp32: '',
  fp16: '_fp16',
  int8: '_int8',
  uint8: '_uint8',
  q8: '_quantized',
  q4: '_q4',
  q4f16: '_q4f16',
  bnb4: '_bnb4',
});

/** `~/.cache/embctl/models`: where model ids live as `<id>/config.json`, `<id>/onnx/model.onnx`, ... */
export function defaultModelCacheDir(): string {
  return join(homedir(), '.cache', 'embctl', 'models');
}

export function resolveLocalOptions(options: LocalEncoderOptions): ResolvedLocalOptions {
  const problems: string[] = [];
  const model = typeof options.model === 'string' ? options.model.trim() : '';
  if (!model) problems.push('model: a model folder or model id is required');
  const { pooling, dtype, maxBatchItems = DEFAULT_MAX_BATCH_ITEMS } = options;
  if (pooling !== undefined && pooling !== 'mean' && pooling !== 'cls') {
    problems.push(`pooling: must be "mean" or "cls", got ${JSON.stringify(pooling)}`);
  }
  if (!Number.isInteger(maxBatchItems) || maxBatchItems < 1) {
    problems.push(`maxBatchItems: must be a positive integer, got ${String(maxBatchItems)}`);
  }
  if (dtype !== undefined && dtype !== 'auto' && !Object.hasOwn(DTYPE_FILE_SUFFIX, dtype)) {
    problems.push(
      `dtype: must be one of auto, ${Object.keys(DTYPE_FILE_SUFFIX).join(', ')}; got ${JSON.stringify(dtype)}`,
    );
  }
  if (problems.length) {
    throw new InputError(`invalid options for the local encoder "${model || '?'}"`, problems);
  }
  return {
    model,
    pooling,
    normalize: options.normalize ?? true,
    allowRemote: options.allowRemote ?? false,
    cacheDir: options.cacheDir ?? defaultModelCacheDir(),
    maxBatchItems,
    dtype: dtype === 'auto' ? undefined : dtype,
  };
}
