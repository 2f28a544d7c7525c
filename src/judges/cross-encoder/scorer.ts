/**
 * A local cross-encoder, loaded once: raw relevance scores for (query,
 * passage) pairs, without thresholds. The `cross-encoder:` judge grades these
 * scores; `judge calibrate` reads them to find the thresholds.
 *
 * Loading reads the folder's JSON files, hashes its files (the revision),
 * loads the tokenizer and the ONNX session (AutoModelForSequenceClassification,
 * CPU, `local_files_only`), and refuses a model without a classification head
 * (no `logits` output) or with more than two labels. A pair is encoded as
 * [CLS] query [SEP] passage [SEP] and cut to its first `maxTokens` tokens
 * (transformers.js truncation), so an over-long pair loses the passage's tail
 * and its last [SEP]; a query alone longer than that leaves no passage.
 */
import {
  hashModelFolder,
  loadPairTokenizer,
  loadSequenceClassifier,
  maxInputTokens,
  readModelInfo,
  requireOnnxFile,
  type PairTokenizerLike,
  type SequenceClassifierLike,
} from '../../encoders/index.js';
import { EncoderError, InputError } from '../../errors.js';
import type { JudgeOptions, JudgePair } from '../types.js';
import { dtypeOf, locateCrossEncoder } from './locate.js';
import { declaredLabels, labelsProblem, rawScores } from './logits.js';
import { checkLoadOptions, DEFAULT_BATCH_PAIRS, type CrossEncoderLoadOptions } from './options.js';

/** What identifies a loaded cross-encoder, before thresholds. */
export interface CrossEncoderIdentityBase {
  kind: 'cross-encoder';
  /** `cross-encoder:<target as given>`. */
  spec: string;
  /** The folder's base name, or the model id: the name in judge ids. */
  name: string;
  /** The absolute folder, or the model id when it was given as one. */
  model: string;
  /** sha256 of the model folder's files. */
  revision: string;
  settings: { maxTokens: number; labels: number; dtype: string };
}

export interface CrossEncoder {
  readonly identityBase: CrossEncoderIdentityBase;
  readonly folder: string;
  /** Longest pair in tokens, [CLS] and [SEP]s included; longer pairs are cut. */
  readonly maxTokens: number;
  /** Pairs one model run carries. */
  readonly batchPairs: number;
  /** Tokens of the encoded pair, after truncation. */
  countTokens(pair: JudgePair): number;
  /** One raw score per pair, in order (NaN or ±Infinity if the model gave one). Runs `batchPairs` at a time. */
  score(pairs: readonly JudgePair[], options?: JudgeOptions): Promise<number[]>;
  /** Dispose of the ONNX session; waits for runs in flight. Safe to call twice. */
  close(): Promise<void>;
}

function messageOf(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

class LoadedCrossEncoder implements CrossEncoder {
  private closed = false;
  private readonly running = new Set<Promise<unknown>>();

  constructor(
    readonly identityBase: CrossEncoderIdentityBase,
    readonly folder: string,
    readonly maxTokens: number,
    readonly batchPairs: number,
    private readonly tokenizer: PairTokenizerLike,
    private readonly model: SequenceClassifierLike,
    private readonly labels: number,
  ) {}

  private get label(): string {
    return `cross-encoder:${this.identityBase.name}`;
  }

  countTokens(pair: JudgePair): number {
    return Math.min(this.tokenizer.encode(pair.query, { text_pair: pair.passage }).length, this.maxTokens);
  }

  async score(pairs: readonly JudgePair[], options: JudgeOptions = {}): Promise<number[]> {
    const { signal, onEvent } = options;
    signal?.throwIfAborted();
    const out: number[] = [];
    for (let start = 0; start < pairs.length; start += this.batchPairs) {
      signal?.throwIfAborted();
      if (this.closed) throw new EncoderError(`${this.label} is closed`);
      const batch = pairs.slice(start, start + this.batchPairs);
      const tokens = batch.reduce((sum, p) => sum + this.countTokens(p), 0);
      onEvent?.({ type: 'request', items: batch.length, tokens });
      const t0 = performance.now();
      const run = Promise.resolve().then(() => {
        const inputs = this.tokenizer(
          batch.map((p) => p.query),
          { text_pair: batch.map((p) => p.passage), padding: true, truncation: true, max_length: this.maxTokens },
        );
        return this.model.run(inputs);
      });
      this.running.add(run);
      let logits;
      try {
        logits = await run;
      } catch (e) {
        throw new EncoderError(
          `${this.label} failed on pairs ${start}..${start + batch.length - 1}: ${messageOf(e)}`,
          [],
          {
            cause: e,
          },
        );
      } finally {
        this.running.delete(run);
      }
      out.push(...rawScores(logits, batch.length, this.labels, this.label));
      onEvent?.({ type: 'response', items: batch.length, tokens, ms: performance.now() - t0 });
    }
    return out;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await Promise.allSettled([...this.running]);
    await this.model.dispose();
  }
}

/** Why the loaded model cannot score pairs, or undefined. */
function headProblem(target: string, folder: string, model: SequenceClassifierLike): string | undefined {
  if (model.outputNames.includes('logits')) return undefined;
  return (
    `cross-encoder:${target}: ${folder} has no classification head (its ONNX model returns ` +
    `${model.outputNames.join(', ') || 'nothing'}, not logits; config.json architectures: ${model.architecture ?? 'none'}): ` +
    `use a reranker exported for sequence classification, e.g. cross-encoder:./models/ms-marco-MiniLM-L-6-v2`
  );
}

async function loadParts(
  target: string,
  folder: string,
  modelMax: number,
  dtype: string,
): Promise<[PairTokenizerLike, SequenceClassifierLike]> {
  const [tokenizer, model] = await Promise.allSettled([
    loadPairTokenizer(folder, modelMax),
    loadSequenceClassifier(folder, dtype),
  ]);
  if (tokenizer.status === 'fulfilled' && model.status === 'fulfilled') return [tokenizer.value, model.value];
  if (model.status === 'fulfilled') await model.value.dispose();
  const [what, e] =
    tokenizer.status === 'rejected'
      ? ['the tokenizer', tokenizer.reason]
      : ['the ONNX model', (model as PromiseRejectedResult).reason];
  throw new InputError(`cross-encoder:${target}: cannot load ${what} in ${folder}: ${messageOf(e)}`, [], { cause: e });
}

/** Run one pair to learn how many labels the model returns (config.json may not say). */
async function probeLabels(
  target: string,
  tokenizer: PairTokenizerLike,
  model: SequenceClassifierLike,
  maxTokens: number,
): Promise<number> {
  let logits;
  try {
    logits = await model.run(
      tokenizer(['query'], { text_pair: ['passage'], padding: true, truncation: true, max_length: maxTokens }),
    );
  } catch (e) {
    throw new InputError(`cross-encoder:${target}: the model fails on a test pair: ${messageOf(e)}`, [], { cause: e });
  }
  const dims = logits?.dims ?? [];
  if (dims.length !== 2 || dims[0] !== 1 || !(dims[1]! > 0)) {
    throw new InputError(
      `cross-encoder:${target}: the model returns logits [${dims.join(', ')}] for one pair, not [1, labels]`,
    );
  }
  return dims[1]!;
}

/**
 * Load a cross-encoder from a folder (or a model id in the local model
 * cache; downloaded only with `allowRemote`). Throws InputError for bad
 * options, a missing folder or id, a folder that is not a model, a model
 * without a classification head or with more than two labels; EncoderError
 * when a download fails.
 */
export async function loadCrossEncoder(target: string, options: CrossEncoderLoadOptions = {}): Promise<CrossEncoder> {
  const given = target.trim();
  if (!given) throw new InputError('cross-encoder: names no model: e.g. cross-encoder:./models/ms-marco-MiniLM-L-6-v2');
  checkLoadOptions(given, options);
  const where = await locateCrossEncoder(given, options);
  const info = readModelInfo(where.folder);
  const dtype = dtypeOf(where.folder);
  requireOnnxFile(where.folder, dtype);
  const declared = declaredLabels(where.folder);
  // A model declaring too many labels is refused before its session is loaded.
  const declaredProblem = labelsProblem(undefined, declared);
  if (declaredProblem) throw new InputError(`cross-encoder:${given}: ${declaredProblem}`);
  const modelMax = maxInputTokens(info);
  const maxTokens = Math.min(options.maxTokens ?? modelMax, modelMax);
  const [revision, [tokenizer, model]] = await Promise.all([
    hashModelFolder(where.folder),
    loadParts(given, where.folder, modelMax, dtype),
  ]);
  let labels: number;
  try {
    const problem = headProblem(given, where.folder, model);
    if (problem) throw new InputError(problem);
    labels = await probeLabels(given, tokenizer, model, maxTokens);
    const bad = labelsProblem(labels, declared);
    if (bad) throw new InputError(`cross-encoder:${given}: ${bad}`);
  } catch (e) {
    await model.dispose();
    throw e;
  }
  options.logger?.debug({ folder: where.folder, revision, maxTokens, labels }, 'loaded the cross-encoder');
  return new LoadedCrossEncoder(
    {
      kind: 'cross-encoder',
      spec: `cross-encoder:${given}`,
      name: where.name,
      model: where.model,
      revision,
      settings: { maxTokens, labels, dtype },
    },
    where.folder,
    maxTokens,
    options.batchPairs ?? DEFAULT_BATCH_PAIRS,
    tokenizer,
    model,
    labels,
  );
}
