/**
 * What the model folder says about itself, read from its JSON files before
 * any ONNX session exists: hidden size, max length, default pooling, dtype
 * and the ONNX file that dtype needs.
 */
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { InputError } from '../../errors.js';
import { DTYPE_FILE_SUFFIX, type LocalPooling } from './options.js';

export interface ModelInfo {
  /** `hidden_size` (or `d_model` / `dim`) of config.json, if it says. */
  hiddenSize: number | undefined;
  /** `max_position_embeddings` of config.json, if it says. */
  maxPositions: number | undefined;
  /** `model_max_length` of tokenizer_config.json, if it is a sane number. */
  tokenizerMaxLength: number | undefined;
  /** From a sentence-transformers `1_Pooling/config.json`, if there is one. */
  pooling: LocalPooling | undefined;
  /** `transformers.js_config.dtype` of config.json, when it is a single string. */
  configDtype: string | undefined;
}

type Json = Record<string, unknown>;

function readJson(folder: string, file: string, required: boolean): Json | undefined {
  const path = join(folder, file);
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch {
    if (required) throw new InputError(`not a model folder (no ${file}): ${folder}`);
    return undefined;
  }
  try {
    const value: unknown = JSON.parse(text);
    if (value && typeof value === 'object' && !Array.isArray(value)) return value as Json;
  } catch {
    // reported below
  }
  throw new InputError(`${path} is not a JSON object`);
}

function positiveInt(v: unknown, below = Number.MAX_SAFE_INTEGER): number | undefined {
  return typeof v === 'number' && Number.isInteger(v) && v > 0 && v < below ? v : undefined;
}

function poolingOf(st: Json | undefined): LocalPooling | undefined {
  if (!st) return undefined;
  if (st['pooling_mode_cls_token'] === true) return 'cls';
  if (st['pooling_mode_mean_tokens'] === true) return 'mean';
  return undefined;
}

export function readModelInfo(folder: string): ModelInfo {
  const config = readJson(folder, 'config.json', true) as Json;
  const tokenizerConfig = readJson(folder, 'tokenizer_config.json', false);
  readJson(folder, 'tokenizer.json', true);
  const tjs = config['transformers.js_config'];
  const dtype = tjs && typeof tjs === 'object' ? (tjs as Json)['dtype'] : undefined;
  return {
    hiddenSize: positiveInt(config['hidden_size'] ?? config['d_model'] ?? config['dim']),
    maxPositions: positiveInt(config['max_position_embeddings']),
    // Many tokenizers say 1e30 ("no limit"): only a realistic value counts.
    tokenizerMaxLength: positiveInt(tokenizerConfig?.['model_max_length'], 1_000_000),
    pooling: poolingOf(readJson(folder, join('1_Pooling', 'config.json'), false)),
    configDtype: typeof dtype === 'string' && dtype !== 'auto' ? dtype : undefined,
  };
}

/** The longest input in tokens: the tokenizer's limit, capped by the position table. */
export function maxInputTokens(info: ModelInfo): number {
  const limits = [info.tokenizerMaxLength, info.maxPositions].filter((n): n is number => n !== undefined);
  return limits.length ? Math.min(...limits) : 512;
}

/** `onnx/model<suffix>.onnx`, which transformers.js loads for this dtype; an InputError if absent. */
export function requireOnnxFile(folder: string, dtype: string): string {
  const rel = `onnx/model${DTYPE_FILE_SUFFIX[dtype] ?? ''}.onnx`;
  try {
    if (statSync(join(folder, rel)).isFile()) return rel;
  } catch {
    // reported below
  }
  throw new InputError(`model folder has no ${rel} (needed for dtype ${dtype}): ${folder}`);
}
