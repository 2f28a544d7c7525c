/**
 * The only module that talks to @huggingface/transformers (imported lazily,
 * so the CLI does not pay for onnxruntime unless a local encoder or a
 * cross-encoder judge is used).
 *
 * Offline by construction: every local load passes `local_files_only: true`
 * and an absolute folder path, so transformers.js reads the files directly
 * and never builds a Hub URL. Only `downloadModel` (used when the caller
 * allowed remote loading) may fetch. The library's global `env` is left
 * alone, so encoders with different settings can live in one process.
 */
import type { LocalPooling } from './options.js';

/** What we use of a transformers.js tokenizer. */
export interface TokenizerLike {
  encode(text: string): number[];
  model_max_length: unknown;
}

export interface TensorLike {
  dims: number[];
  type: string;
  data: ArrayLike<number>;
}

export interface FeaturePipelineLike {
  (texts: string[], options: { pooling: LocalPooling; normalize: boolean }): Promise<TensorLike>;
  dispose(): Promise<void>;
}

type Transformers = typeof import('@huggingface/transformers');

let transformers: Promise<Transformers> | undefined;

function load(): Promise<Transformers> {
  transformers ??= import('@huggingface/transformers');
  return transformers;
}

/** The tokenizer of a model folder, truncating to `maxLength` tokens. */
export async function loadTokenizer(folder: string, maxLength: number): Promise<TokenizerLike> {
  const { AutoTokenizer } = await load();
  const tokenizer = await AutoTokenizer.from_pretrained(folder, { local_files_only: true });
  // The feature-extraction pipeline pads and truncates to model_max_length;
  // make that the limit the model can actually take.
  tokenizer.model_max_length = maxLength;
  return tokenizer as unknown as TokenizerLike;
}

/** A feature-extraction pipeline over the folder's ONNX model, sharing `tokenizer`. */
export async function loadPipeline(
  folder: string,
  dtype: string,
  tokenizer: TokenizerLike,
): Promise<FeaturePipelineLike> {
  const { AutoModel, FeatureExtractionPipeline } = await load();
  const model = await AutoModel.from_pretrained(folder, {
    local_files_only: true,
    device: 'cpu',
    dtype: dtype as 'fp32',
  });
  const Ctor = FeatureExtractionPipeline as unknown as new (args: {
    task: string;
    model: unknown;
    tokenizer: unknown;
  }) => FeaturePipelineLike;
  return new Ctor({ task: 'feature-extraction', model, tokenizer });
}

/** What we use of a transformers.js tokenizer for (query, passage) pairs. */
export interface PairTokenizerLike {
  (
    texts: string[],
    options: { text_pair: string[]; padding: true; truncation: true; max_length: number },
  ): Record<string, unknown>;
  encode(text: string, options: { text_pair: string }): number[];
  model_max_length: unknown;
}

/** The tokenizer of a model folder for sentence pairs, truncating to `maxLength` tokens. */
export async function loadPairTokenizer(folder: string, maxLength: number): Promise<PairTokenizerLike> {
  return (await loadTokenizer(folder, maxLength)) as unknown as PairTokenizerLike;
}

/** A sequence-classification model (a cross-encoder) over the folder's ONNX file. */
export interface SequenceClassifierLike {
  /** config.json `architectures[0]`, if it says. */
  readonly architecture: string | undefined;
  /** The ONNX graph's outputs: a classifier has `logits`. */
  readonly outputNames: readonly string[];
  /** The model's `logits` output for tokenized pairs, or undefined if it has none. */
  run(inputs: Record<string, unknown>): Promise<TensorLike | undefined>;
  dispose(): Promise<void>;
}

export async function loadSequenceClassifier(folder: string, dtype: string): Promise<SequenceClassifierLike> {
  const { AutoModelForSequenceClassification } = await load();
  const model = await AutoModelForSequenceClassification.from_pretrained(folder, {
    local_files_only: true,
    device: 'cpu',
    dtype: dtype as 'fp32',
  });
  const session = model.sessions['model'] as { outputNames?: string[] } | undefined;
  const architectures = (model.config as { architectures?: unknown }).architectures;
  return {
    architecture: Array.isArray(architectures) && typeof architectures[0] === 'string' ? architectures[0] : undefined,
    outputNames: [...(session?.outputNames ?? [])],
    async run(inputs) {
      const out = (await model(inputs)) as { logits?: TensorLike };
      return out.logits;
    },
    async dispose() {
      await model.dispose();
    },
  };
}

/**
 * Fetch a model id from the Hub into `<cacheDir>/<id>/` (config, tokenizer,
 * then `onnx/model<suffix>.onnx` for the dtype `pickDtype` chooses once the
 * config is on disk), the layout transformers.js's file cache uses.
 */
export async function downloadModel(id: string, cacheDir: string, pickDtype: () => string): Promise<void> {
  const { AutoConfig, AutoModel, AutoTokenizer } = await load();
  const opts = { cache_dir: cacheDir, local_files_only: false };
  await AutoConfig.from_pretrained(id, opts);
  await AutoTokenizer.from_pretrained(id, opts);
  const model = await AutoModel.from_pretrained(id, { ...opts, device: 'cpu', dtype: pickDtype() as 'fp32' });
  await model.dispose();
}
