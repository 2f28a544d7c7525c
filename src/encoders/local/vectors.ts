/**
 * Check what the model returned and split it into one vector per text.
 * A bad output (wrong shape, NaN, not unit length when it should be) is an
 * error naming the encoder, never a stored vector.
 */
import { EncoderOutputError } from '../../errors.js';
import { EncoderDimensionsError } from '../dimensions-error.js';
import type { TensorLike } from './transformers-runtime.js';
import { withTextIndex } from '../output-error.js';

export interface VectorCheck {
  /** Encoder name for messages, e.g. `local:minilm`. */
  encoder: string;
  count: number;
  /** Expected dimensions, if known. */
  dimensions: number | undefined;
  /** Position of the first text of this output in the caller's list (default 0). */
  offset?: number;
  normalized: boolean;
  label?: string;
}

const NORM_TOLERANCE = 1e-3;

export function splitVectors(output: TensorLike, check: VectorCheck): Float32Array[] {
  const where = `${check.encoder}${check.label ? ` (${check.label})` : ''}`;
  const fail = (what: string, row?: number): never => {
    throw withTextIndex(
      new EncoderOutputError(`${where} returned a bad embedding: ${what}`),
      row === undefined ? undefined : row + (check.offset ?? 0),
    );
  };
  const [rows, dims, ...rest] = output.dims;
  if (output.type !== 'float32') fail(`type ${output.type}, expected float32`);
  if (rows === undefined || dims === undefined || rest.length)
    fail(`shape [${output.dims.join(', ')}], expected [${check.count}, dims]`);
  if (rows !== check.count) fail(`${rows} vectors for ${check.count} texts`);
  if (check.dimensions !== undefined && dims !== check.dimensions) {
    throw new EncoderDimensionsError(
      `${where} returned a bad embedding: ${dims} dimensions, expected ${check.dimensions}`,
      dims!,
      check.dimensions,
    );
  }
  if (!dims || output.data.length !== rows! * dims) fail(`${output.data.length} values for shape [${rows}, ${dims}]`);
  const data = output.data instanceof Float32Array ? output.data : Float32Array.from(output.data);
  const out: Float32Array[] = [];
  for (let r = 0; r < rows!; r++) {
    const v = data.slice(r * dims!, (r + 1) * dims!);
    let sq = 0;
    for (let i = 0; i < v.length; i++) {
      const x = v[i]!;
      if (!Number.isFinite(x)) fail(`vector ${r} has a non-finite value at ${i}`, r);
      sq += x * x;
    }
    if (check.normalized && Math.abs(Math.sqrt(sq) - 1) > NORM_TOLERANCE) {
      fail(`vector ${r} has norm ${Math.sqrt(sq).toFixed(6)}, expected 1 (an all-zero output cannot be normalised)`, r);
    }
    out.push(v);
  }
  return out;
}
