/**
 * pgvector text and binary encodings. Vectors are float4 in PostgreSQL and
 * Float32Array here; both directions are exact (bit-identical round trip).
 */

/** Parse pgvector's text form `[1,2.5,-3e-08]` into a Float32Array. */
export function parseVectorText(text: string): Float32Array {
  const body = text.trim();
  if (body.length < 2 || body[0] !== '[' || body[body.length - 1] !== ']') {
    throw new Error(`not a vector literal: ${body.slice(0, 40)}`);
  }
  const inner = body.slice(1, -1);
  if (inner.trim() === '') return new Float32Array(0);
  const parts = inner.split(',');
  const out = new Float32Array(parts.length);
  for (let i = 0; i < parts.length; i++) out[i] = Number(parts[i]);
  return out;
}

/**
 * Format a vector as a pgvector literal. Each float32 is written as the
 * shortest decimal of its exact double value, which PostgreSQL's strtof
 * reads back to the same float32.
 */
export function formatVectorText(v: ArrayLike<number>): string {
  let s = '[';
  for (let i = 0; i < v.length; i++) {
    if (i > 0) s += ',';
    const x = v[i]!;
    s += x === 0 && Object.is(x, -0) ? '-0' : String(x);
  }
  return s + ']';
}

/** The first problem that keeps a vector out of a partition, or null. */
export function vectorProblem(v: ArrayLike<number>, dims: number): string | null {
  if (v.length !== dims) return `has ${v.length} dimensions, expected ${dims}`;
  for (let i = 0; i < v.length; i++) {
    const x = v[i]!;
    if (Number.isNaN(x)) return `has NaN at position ${i}`;
    if (!Number.isFinite(x)) return `has ${x > 0 ? 'Infinity' : '-Infinity'} at position ${i}`;
    if (Math.abs(x) > 3.4028234663852886e38) return `has a value outside float32 range at position ${i}`;
  }
  return null;
}

/** Size in bytes of pgvector's binary send format for a `vector` of `dims`. */
export function vectorBinarySize(dims: number): number {
  return 4 + 4 * dims;
}

/** Write pgvector's binary form (int16 dims, int16 unused, float4 BE...) at offset; returns the new offset. */
export function writeVectorBinary(buf: Buffer, offset: number, v: ArrayLike<number>): number {
  let o = buf.writeInt16BE(v.length, offset);
  o = buf.writeInt16BE(0, o);
  for (let i = 0; i < v.length; i++) o = buf.writeFloatBE(v[i]!, o);
  return o;
}
