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
 * shortest decimal that reads back (strtof) to the same float32 — about half
 * the length of the double's repr.
 */
export function formatVectorText(v: ArrayLike<number>): string {
  let s = '[';
  for (let i = 0; i < v.length; i++) {
    if (i > 0) s += ',';
    s += float32Text(v[i]!);
  }
  return s + ']';
}

/** Shortest decimal of a float32 value (exact round trip through strtof). */
export function float32Text(x: number): string {
  if (x === 0) return Object.is(x, -0) ? '-0' : '0';
  if (!Number.isFinite(x)) return String(x);
  const f = Math.fround(x);
  for (let p = 6; p <= 9; p++) {
    const t = f.toPrecision(p);
    if (Math.fround(Number(t)) === f) return String(Number(t));
  }
  return String(f);
}

/** The first problem that keeps a vector out of a partition, or null. */
export function vectorProblem(v: ArrayLike<number>, dims: number): string | null {
  if (v.length !== dims) return `has ${v.length} dimensions, expected ${dims}`;
  // Every finite float32 is in range: one pass finds whether anything is wrong,
  // the loop below says what and where.
  if (v instanceof Float32Array && allFinite(v)) return null;
  for (let i = 0; i < v.length; i++) {
    const x = v[i]!;
    if (Number.isNaN(x)) return `has NaN at position ${i}`;
    if (!Number.isFinite(x)) return `has ${x > 0 ? 'Infinity' : '-Infinity'} at position ${i}`;
    if (Math.abs(x) > 3.4028234663852886e38) return `has a value outside float32 range at position ${i}`;
  }
  return null;
}

/**
 * True when no value is NaN or ±Infinity: x·0 is ±0 for every finite x and
 * NaN otherwise, and a sum of zeros stays 0 (four independent sums, so the
 * loop does not wait on one).
 */
export function allFinite(v: Float32Array): boolean {
  let a = 0;
  let b = 0;
  let c = 0;
  let d = 0;
  const n = v.length;
  const n4 = n - (n % 4);
  let i = 0;
  for (; i < n4; i += 4) {
    a += v[i]! * 0;
    b += v[i + 1]! * 0;
    c += v[i + 2]! * 0;
    d += v[i + 3]! * 0;
  }
  for (; i < n; i++) a += v[i]! * 0;
  return a + b + c + d === 0;
}

/** Size in bytes of pgvector's binary send format for a `vector` of `dims`. */
export function vectorBinarySize(dims: number): number {
  return 4 + 4 * dims;
}

const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/**
 * Write pgvector's binary form (int16 dims, int16 unused, float4 big-endian)
 * at offset; returns the new offset. A Float32Array is copied in one go and
 * byte-swapped natively (3–5× faster than a writeFloatBE per value).
 */
export function writeVectorBinary(buf: Buffer, offset: number, v: ArrayLike<number>): number {
  let o = buf.writeInt16BE(v.length, offset);
  o = buf.writeInt16BE(0, o);
  if (v instanceof Float32Array) {
    const bytes = 4 * v.length;
    buf.set(new Uint8Array(v.buffer, v.byteOffset, bytes), o);
    if (LITTLE_ENDIAN) buf.subarray(o, o + bytes).swap32();
    return o + bytes;
  }
  for (let i = 0; i < v.length; i++) o = buf.writeFloatBE(v[i]!, o);
  return o;
}
