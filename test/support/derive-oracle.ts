/**
 * The derived-version transforms computed in TypeScript, apart from the
 * SQL they check (src/partitions/transform.ts): Matryoshka truncation,
 * half precision rounding, binary quantization, and the distances.
 */

export function normalize(v: readonly number[]): number[] {
  const n = Math.sqrt(v.reduce((s, x) => s + x * x, 0));
  return n === 0 ? [...v] : v.map((x) => x / n);
}

/** IEEE 754 binary16 rounding (round half to even), as `::halfvec` stores a float4. */
export function toHalf(x: number): number {
  if (x === 0 || !Number.isFinite(x)) return x;
  const a = Math.abs(x);
  let e = Math.floor(Math.log2(a));
  if (2 ** e > a) e -= 1; // log2 rounding at powers of two
  if (2 ** (e + 1) <= a) e += 1;
  const step = 2 ** (Math.max(e, -14) - 10); // below 2^-14: subnormal, fixed step
  const q = a / step;
  let r = Math.round(q);
  if (r - q === 0.5 && r % 2 === 1) r -= 1;
  return Math.sign(x) * r * step;
}

/** `binary_quantize`: 1 where the value is positive. */
export function sign(v: readonly number[]): string {
  return v.map((x) => (x > 0 ? '1' : '0')).join('');
}

export function hamming(a: string, b: string): number {
  let d = 0;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) d++;
  return d;
}

/** pgvector `<=>`: 1 − cos θ. */
export function cosineDistance(a: readonly number[], b: readonly number[]): number {
  let dot = 0;
  let na = 0;
  let nb = 0;
  for (let i = 0; i < a.length; i++) {
    dot += a[i]! * b[i]!;
    na += a[i]! * a[i]!;
    nb += b[i]! * b[i]!;
  }
  return 1 - dot / Math.sqrt(na * nb);
}
