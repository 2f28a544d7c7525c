/**
 * What the Batch API of the test server needs of the embeddings endpoint: the
 * body check of one request line (as `POST /v1/embeddings` checks it) and the
 * `data` JSON of an answer. `BatchContext` is what the server hands the Files
 * and Batch stores.
 */
import { errorBody, type ErrorBody } from './openai-server-http.js';
import type { BatchStats } from './openai-server-batch-types.js';

export interface BatchContext {
  countTokens: (text: string) => number;
  /** Default dimensions of a model. */
  modelDimensions: (model: string) => number;
  /** Largest embeddings input list accepted per request line. */
  maxItems: number;
  /** The vector the server gives (model, text) at these dimensions. */
  embed: (model: string, text: string, dimensions: number) => Float32Array;
  /** Wall-clock ms for timestamps. */
  now: () => number;
  stats: () => BatchStats;
}

export interface EmbeddingsRequest {
  model: string;
  texts: string[];
  dimensions: number;
  format: 'float' | 'base64';
}

/** An embeddings body checked as the API checks it: the request, or the 400 to answer. */
export function parseEmbeddingsBody(body: unknown, ctx: BatchContext): EmbeddingsRequest | ErrorBody {
  const b = (body ?? {}) as { model?: unknown; input?: unknown; dimensions?: unknown; encoding_format?: unknown };
  const model = b.model;
  if (typeof model !== 'string' || model === '') {
    return errorBody('you must provide a model parameter', 'invalid_request_error');
  }
  const input = b.input;
  const texts = typeof input === 'string' ? [input] : input;
  if (!Array.isArray(texts) || texts.length === 0 || !texts.every((t) => typeof t === 'string' && t !== '')) {
    return errorBody("'$.input' is invalid. Please check the API reference.", 'invalid_request_error');
  }
  if (texts.length > ctx.maxItems) {
    return errorBody(`'$.input' must have at most ${ctx.maxItems} items`, 'invalid_request_error');
  }
  const format = b.encoding_format === undefined ? 'float' : b.encoding_format;
  if (format !== 'float' && format !== 'base64') {
    return errorBody("'encoding_format' must be 'float' or 'base64'", 'invalid_request_error');
  }
  const modelDims = ctx.modelDimensions(model);
  let dimensions = modelDims;
  if (b.dimensions !== undefined) {
    const d = b.dimensions;
    if (typeof d !== 'number' || !Number.isInteger(d) || d < 1 || d > modelDims) {
      return errorBody(`Invalid 'dimensions': must be an integer between 1 and ${modelDims}.`, 'invalid_request_error');
    }
    dimensions = d;
  }
  return { model, texts: texts as string[], dimensions, format };
}

export function toBase64(v: Float32Array): string {
  const buf = Buffer.alloc(v.length * 4);
  for (let i = 0; i < v.length; i++) buf.writeFloatLE(v[i]!, i * 4);
  return buf.toString('base64');
}

export function fromBase64(b64: string): Float32Array {
  const buf = Buffer.from(b64, 'base64');
  const out = new Float32Array(buf.length / 4);
  for (let i = 0; i < out.length; i++) out[i] = buf.readFloatLE(i * 4);
  return out;
}

/** A float vector as JSON; NaN as `null` and ±Infinity as `±1e999`, as broken servers send them. */
export function vectorJson(v: Float32Array): string {
  let out = '[';
  for (let i = 0; i < v.length; i++) {
    const x = v[i]!;
    if (i) out += ',';
    out += Number.isFinite(x) ? String(x) : Number.isNaN(x) ? 'null' : x > 0 ? '1e999' : '-1e999';
  }
  return out + ']';
}

/** The `data` array of an embeddings answer, as JSON text, items in the given order. */
export function embeddingsDataJson(vectors: Float32Array[], order: number[], format: 'float' | 'base64'): string {
  const items = order.map((i) => {
    const v = vectors[i]!;
    const embedding = format === 'base64' ? JSON.stringify(toBase64(v)) : vectorJson(v);
    return `{"object":"embedding","index":${i},"embedding":${embedding}}`;
  });
  return `[${items.join(',')}]`;
}

/** A deterministic permutation of 0..n-1 that differs from the identity when it can. */
export function shuffledOrder(n: number, seed: number): number[] {
  const out = Array.from({ length: n }, (_, i) => i);
  let s = (seed * 2654435761) >>> 0 || 1;
  for (let i = out.length - 1; i > 0; i--) {
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    const j = s % (i + 1);
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  if (out.length > 1 && out.every((v, i) => v === i)) out.reverse();
  return out;
}
