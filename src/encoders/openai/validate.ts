/**
 * Checking an embeddings response before any vector leaves the encoder:
 * one item per input, each `index` once and in range, the expected
 * dimensions, finite numbers only. Accepts base64 (little-endian float32)
 * or float arrays, whichever the server sent.
 */

export interface ValidateContext {
  /** Expected number of vectors (the inputs sent). */
  count: number;
  /** Expected dimensions, when known (declared or first seen). */
  dimensions: number | undefined;
  /** Position of this request's first text in the caller's list (for messages). Default 0. */
  offset?: number;
}

/** What went wrong, phrased to follow "<encoder> returned ..." */
export class InvalidResponse extends Error {
  /**
   * `dimensions` is set when the vectors had the wrong size; `textIndex` when
   * the problem is one text's vector (its position in the caller's list).
   */
  constructor(
    message: string,
    readonly dimensions?: { actual: number; expected: number },
    readonly textIndex?: number,
  ) {
    super(message);
  }
}

export function decodeEmbedding(raw: unknown): Float32Array {
  if (typeof raw === 'string') {
    const buf = Buffer.from(raw, 'base64');
    if (buf.length % 4 !== 0)
      throw new InvalidResponse(`a base64 embedding of ${buf.length} bytes (not a multiple of 4)`);
    const out = new Float32Array(buf.length / 4);
    for (let i = 0; i < out.length; i++) out[i] = buf.readFloatLE(i * 4);
    return out;
  }
  if (raw instanceof Float32Array) return raw;
  if (Array.isArray(raw)) {
    const out = new Float32Array(raw.length);
    for (let i = 0; i < raw.length; i++) {
      const x = raw[i];
      out[i] = typeof x === 'number' ? x : NaN; // null or a string is not a number: caught as non-finite
    }
    return out;
  }
  throw new InvalidResponse(
    `an embedding that is neither base64 nor a list of numbers (${raw === null ? 'null' : typeof raw})`,
  );
}

/** The vectors in input order; throws InvalidResponse on the first problem. */
export function validateEmbeddings(
  response: unknown,
  ctx: ValidateContext,
): { vectors: Float32Array[]; dimensions: number } {
  const data = (response as { data?: unknown } | null)?.data;
  if (!Array.isArray(data)) {
    throw new InvalidResponse(`a response without a data list (${describe(response)})`);
  }
  if (data.length !== ctx.count) {
    throw new InvalidResponse(`${data.length} embeddings for ${ctx.count} inputs`);
  }
  const out: Array<Float32Array | undefined> = new Array(ctx.count);
  let dims = ctx.dimensions;
  const at = (index: number) => index + (ctx.offset ?? 0);
  for (let pos = 0; pos < data.length; pos++) {
    const item = data[pos] as { index?: unknown; embedding?: unknown } | null;
    const index = item?.index;
    if (typeof index !== 'number' || !Number.isInteger(index) || index < 0 || index >= ctx.count) {
      throw new InvalidResponse(
        `an item with index ${JSON.stringify(index) ?? 'missing'} (expected 0..${ctx.count - 1})`,
      );
    }
    if (out[index] !== undefined) throw new InvalidResponse(`index ${index} twice`);
    const vec = decodeEmbedding(item?.embedding);
    if (dims === undefined) dims = vec.length;
    if (vec.length !== dims)
      throw new InvalidResponse(
        `${vec.length} dimensions, expected ${dims}`,
        { actual: vec.length, expected: dims },
        at(index),
      );
    if (vec.length === 0) throw new InvalidResponse(`an empty embedding for text ${at(index)}`, undefined, at(index));
    for (let i = 0; i < vec.length; i++) {
      const x = vec[i]!;
      if (!Number.isFinite(x)) {
        throw new InvalidResponse(
          `a non-finite value (${Number.isNaN(x) ? 'NaN' : x}) at dimension ${i} of text ${at(index)}`,
          undefined,
          at(index),
        );
      }
    }
    out[index] = vec;
  }
  // data.length === count and no index twice ⇒ every index present.
  return { vectors: out as Float32Array[], dimensions: dims! };
}

function describe(x: unknown): string {
  if (x === null) return 'null';
  if (typeof x === 'string') return `text of ${x.length} characters`;
  return typeof x;
}
