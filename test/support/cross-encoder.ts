/**
 * Score (query, passage) pairs with a local cross-encoder through
 * @huggingface/transformers, offline, the way embctl's `cross-encoder:` judge
 * is meant to: lazy import, an absolute folder, `local_files_only: true`, CPU,
 * fp32; the tokenizer encodes each pair as [CLS] query [SEP] passage [SEP]
 * (token_type_ids 0 then 1), padded to the longest pair of the batch and
 * truncated to the tokenizer's model_max_length; the model returns `logits`
 * [batch, num_labels], and a reranker has one label: its raw score.
 *
 * Used by test/cross-encoder-fixture.test.ts and
 * scripts/cross-encoder-agreement.ts.
 */
import { fileURLToPath } from 'node:url';

/** The shipped tiny lexical-overlap cross-encoder (scripts/make-tiny-cross-encoder.py). */
export const TINY_CROSS_ENCODER = fileURLToPath(new URL('../fixtures/tiny-cross-encoder', import.meta.url));
/** The shipped tiny embedding model: a BERT without a classification head. */
export const TINY_EMBEDDING_MODEL = fileURLToPath(new URL('../fixtures/tiny-model', import.meta.url));

type Transformers = typeof import('@huggingface/transformers');
let transformers: Promise<Transformers> | undefined;

export function loadTransformers(): Promise<Transformers> {
  transformers ??= import('@huggingface/transformers');
  return transformers;
}

export interface PairScorer {
  /** config.architectures[0] of the folder. */
  readonly architecture: string | undefined;
  readonly inputNames: readonly string[];
  readonly outputNames: readonly string[];
  /** model_max_length of the tokenizer: longer pairs lose the passage's tail. */
  readonly maxLength: number;
  /** One raw score (logit) per pair; `queries[i]` goes with `passages[i]`. */
  score(queries: string[], passages: string[]): Promise<number[]>;
  dispose(): Promise<void>;
}

/** Why a loaded sequence-classification model cannot score pairs, or undefined if it can. */
export function classificationHeadProblem(
  folder: string,
  architecture: string | undefined,
  outputNames: readonly string[],
): string | undefined {
  if (outputNames.includes('logits')) return undefined;
  return (
    `${folder} is not a cross-encoder: its ONNX model returns ${outputNames.join(', ') || 'nothing'}, not logits ` +
    `(config.json architectures: ${architecture ?? 'none'}); use a model exported for sequence classification ` +
    `(e.g. a *ForSequenceClassification reranker)`
  );
}

/** Load a cross-encoder folder offline. Throws if its model has no `logits` output. */
export async function loadPairScorer(
  folder: string,
  options: { intraOpNumThreads?: number } = {},
): Promise<PairScorer> {
  const { AutoTokenizer, AutoModelForSequenceClassification } = await loadTransformers();
  const tokenizer = await AutoTokenizer.from_pretrained(folder, { local_files_only: true });
  const model = await AutoModelForSequenceClassification.from_pretrained(folder, {
    local_files_only: true,
    device: 'cpu',
    dtype: 'fp32',
    ...(options.intraOpNumThreads ? { session_options: { intraOpNumThreads: options.intraOpNumThreads } } : {}),
  });
  const session = model.sessions['model'] as { inputNames: string[]; outputNames: string[] };
  const architecture = (model.config as { architectures?: string[] }).architectures?.[0];
  const problem = classificationHeadProblem(folder, architecture, session.outputNames);
  if (problem) {
    await model.dispose();
    throw new Error(problem);
  }
  return {
    architecture,
    inputNames: [...session.inputNames],
    outputNames: [...session.outputNames],
    maxLength: tokenizer.model_max_length,
    async score(queries, passages) {
      if (queries.length !== passages.length) throw new Error('queries and passages differ in length');
      if (queries.length === 0) return [];
      const inputs = tokenizer(queries, { text_pair: passages, padding: true, truncation: true });
      const { logits } = (await model(inputs)) as { logits: { dims: number[]; data: Float32Array } };
      const [rows, labels] = logits.dims;
      if (rows !== queries.length || labels !== 1) {
        throw new Error(`expected logits [${queries.length}, 1], got [${logits.dims.join(', ')}]`);
      }
      return Array.from(logits.data);
    },
    async dispose() {
      await model.dispose();
    },
  };
}
