/**
 * The `local:<model folder or id>` encoder: a transformers.js
 * feature-extraction pipeline over an ONNX model on disk (README "Encoders"). Creating it reads the folder's JSON files, hashes the folder
 * (the revision) and loads the tokenizer; the ONNX session is created on the
 * first `embed`, once, however many calls race for it.
 */
import { EncoderError, InputError } from '../../errors.js';
import type { EmbedOptions, Encoder, EncoderIdentity } from '../types.js';
import { hashModelFolder } from './folder-hash.js';
import { locateModel } from './locate-model.js';
import { maxInputTokens, readModelInfo, requireOnnxFile, type ModelInfo } from './model-info.js';
import { resolveLocalOptions, type LocalEncoderOptions, type LocalPooling } from './options.js';
import {
  downloadModel,
  loadPipeline,
  loadTokenizer,
  type FeaturePipelineLike,
  type TokenizerLike,
} from './transformers-runtime.js';
import { splitVectors } from './vectors.js';

export interface LocalEncoder extends Encoder {
  /** The model folder the encoder reads. */
  readonly folder: string;
  /** Longest input in tokens; longer texts are truncated by the tokenizer (their tail is not embedded). */
  readonly maxInputTokens: number;
  /** Create the ONNX session now instead of on the first `embed`. */
  load(): Promise<void>;
  close(): Promise<void>;
}

interface Setup {
  spec: string;
  name: string;
  folder: string;
  revision: string;
  info: ModelInfo;
  pooling: LocalPooling;
  normalize: boolean;
  dtype: string;
  maxBatchItems: number;
  tokenizer: TokenizerLike;
}

class TransformersLocalEncoder implements LocalEncoder {
  readonly spec: string;
  readonly identity: EncoderIdentity;
  readonly normalized: boolean;
  readonly maxBatchItems: number;
  readonly maxBatchTokens: number;
  readonly maxInputTokens: number;
  readonly folder: string;
  private dims: number | undefined;
  private pipeline: FeaturePipelineLike | undefined;
  private loading: Promise<FeaturePipelineLike> | undefined;
  private closed = false;
  /** Model runs in flight; `close` waits for them before disposing the session. */
  private readonly running = new Set<Promise<unknown>>();

  constructor(private readonly setup: Setup) {
    this.spec = setup.spec;
    this.folder = setup.folder;
    this.identity = {
      name: `local:${setup.name}`,
      revision: setup.revision,
      settings: { pooling: setup.pooling, normalize: setup.normalize, dtype: setup.dtype },
    };
    this.normalized = setup.normalize;
    this.maxBatchItems = setup.maxBatchItems;
    this.maxInputTokens = maxInputTokens(setup.info);
    this.maxBatchTokens = this.maxBatchItems * this.maxInputTokens;
    this.dims = setup.info.hiddenSize;
  }

  /** From config.json until the first output, which must agree (or sets it, if config did not say). */
  get dimensions(): number | undefined {
    return this.dims;
  }

  /** Tokens including [CLS]/[SEP], capped at `maxInputTokens` since the tokenizer truncates there. */
  countTokens(text: string): number {
    return Math.min(this.setup.tokenizer.encode(text).length, this.maxInputTokens);
  }

  async load(): Promise<void> {
    await this.session();
  }

  private session(): Promise<FeaturePipelineLike> {
    if (this.closed) return Promise.reject(new EncoderError(`${this.identity.name} is closed`));
    if (this.pipeline) return Promise.resolve(this.pipeline);
    this.loading ??= loadPipeline(this.folder, this.setup.dtype, this.setup.tokenizer).then(
      (p) => {
        this.pipeline = p;
        return p;
      },
      (e: unknown) => {
        this.loading = undefined; // a later call may try again
        throw new InputError(
          `${this.identity.name}: cannot load the ONNX model in ${this.folder}: ${messageOf(e)}`,
          [],
          {
            cause: e,
          },
        );
      },
    );
    return this.loading;
  }

  async embed(texts: string[], options: EmbedOptions = {}): Promise<Float32Array[]> {
    const { signal, onEvent, label } = options;
    signal?.throwIfAborted();
    if (texts.length === 0) return [];
    const pipeline = await this.session();
    const out: Float32Array[] = [];
    for (let start = 0; start < texts.length; start += this.maxBatchItems) {
      signal?.throwIfAborted();
      if (this.closed) throw new EncoderError(`${this.identity.name} was closed during embed`);
      const batch = texts.slice(start, start + this.maxBatchItems);
      const tokens = batch.reduce((sum, t) => sum + this.countTokens(t), 0);
      onEvent?.({ type: 'request', items: batch.length, tokens });
      const t0 = performance.now();
      const run = pipeline(batch, { pooling: this.setup.pooling, normalize: this.setup.normalize });
      this.running.add(run);
      let output;
      try {
        output = await run;
      } catch (e) {
        throw new EncoderError(`${this.identity.name}${label ? ` (${label})` : ''} failed: ${messageOf(e)}`, [], {
          cause: e,
        });
      } finally {
        this.running.delete(run);
      }
      const vectors = splitVectors(output, {
        encoder: this.identity.name,
        count: batch.length,
        offset: start,
        dimensions: this.dims,
        normalized: this.normalized,
        ...(label ? { label } : {}),
      });
      this.dims ??= vectors[0]?.length;
      onEvent?.({ type: 'response', items: batch.length, tokens, ms: performance.now() - t0 });
      out.push(...vectors);
    }
    return out;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    const pending = this.loading;
    this.loading = undefined;
    const pipeline = this.pipeline ?? (await pending?.catch(() => undefined));
    this.pipeline = undefined;
    await Promise.allSettled([...this.running]);
    await pipeline?.dispose();
  }
}

function messageOf(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

/**
 * Make a `local:` encoder. Throws InputError for bad options, a missing
 * folder, a model id that is not in the cache dir (unless `allowRemote`),
 * or a folder without config.json / tokenizer.json / the dtype's ONNX file.
 */
export async function createLocalEncoder(options: LocalEncoderOptions): Promise<LocalEncoder> {
  const opts = resolveLocalOptions(options);
  const where = locateModel(opts.model, opts);
  const pickDtype = (info: ModelInfo): string => opts.dtype ?? info.configDtype ?? 'fp32';
  if (where.kind === 'remote') {
    try {
      await downloadModel(where.id, opts.cacheDir, () => pickDtype(readModelInfo(where.folder)));
    } catch (e) {
      if (e instanceof InputError) throw e;
      throw new EncoderError(`local:${where.id}: download failed: ${messageOf(e)}`, [], { cause: e });
    }
  }
  const info = readModelInfo(where.folder);
  const dtype = pickDtype(info);
  requireOnnxFile(where.folder, dtype);
  const [revision, tokenizer] = await Promise.all([
    hashModelFolder(where.folder),
    loadTokenizer(where.folder, maxInputTokens(info)).catch((e: unknown) => {
      throw new InputError(`local:${where.name}: cannot load the tokenizer in ${where.folder}: ${messageOf(e)}`, [], {
        cause: e,
      });
    }),
  ]);
  return new TransformersLocalEncoder({
    spec: `local:${opts.model}`,
    name: where.name,
    folder: where.folder,
    revision,
    info,
    pooling: opts.pooling ?? info.pooling ?? 'mean',
    normalize: opts.normalize,
    dtype,
    maxBatchItems: opts.maxBatchItems,
    tokenizer,
  });
}
