/**
 * From a classifier's logits to one raw relevance score per pair. A reranker
 * has one label (its logit is the score) or two (not relevant, relevant: the
 * score is logit[1] - logit[0], the log-odds of "relevant"). More labels are
 * not a relevance score and are refused when the model is loaded.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { EncoderError } from '../../errors.js';
import type { TensorLike } from '../../encoders/index.js';

/** How many labels config.json declares (`id2label`, else `num_labels`), or undefined if it does not say. */
export function declaredLabels(folder: string): number | undefined {
  let config: Record<string, unknown>;
  try {
    config = JSON.parse(readFileSync(join(folder, 'config.json'), 'utf8')) as Record<string, unknown>;
  } catch {
    return undefined; // readModelInfo has already refused a missing or broken config.json
  }
  const id2label = config['id2label'];
  if (id2label && typeof id2label === 'object' && !Array.isArray(id2label)) {
    const n = Object.keys(id2label).length;
    if (n > 0) return n;
  }
  const n = config['num_labels'];
  return typeof n === 'number' && Number.isInteger(n) && n > 0 ? n : undefined;
}

/** One raw score per row of `logits` [rows, labels]; NaN/Infinity pass through for the caller to report. */
export function rawScores(logits: TensorLike | undefined, rows: number, labels: number, name: string): number[] {
  const dims = logits?.dims ?? [];
  if (!logits || dims.length !== 2 || dims[0] !== rows || dims[1] !== labels) {
    throw new EncoderError(
      `${name}: expected logits [${rows}, ${labels}] from the model, got ${logits ? `[${dims.join(', ')}]` : 'none'}`,
    );
  }
  const data = logits.data;
  return Array.from({ length: rows }, (_, r) =>
    labels === 1 ? Number(data[r]) : Number(data[r * 2 + 1]) - Number(data[r * 2]),
  );
}

const NEED = 'a relevance judge needs a reranker with one score (1 label) or not-relevant/relevant (2 labels)';

/**
 * Why a model is no relevance judge, or undefined: config.json declares
 * `declared` labels (if it says); the model returns `width` per pair (once
 * known; undefined before the model is loaded).
 */
export function labelsProblem(width: number | undefined, declared: number | undefined): string | undefined {
  if (declared !== undefined && declared > 2) return `config.json declares ${declared} labels; ${NEED}`;
  if (width === undefined) return undefined;
  if (declared !== undefined && declared !== width)
    return `config.json declares ${declared} labels but the model returns ${width}`;
  return width === 1 || width === 2 ? undefined : `the model returns ${width} labels per pair; ${NEED}`;
}
