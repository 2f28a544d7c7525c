/**
 * Natural logarithm from +, -, *, / only (all correctly rounded by IEEE 754),
 * so term weights are bit-identical on every platform; `Math.log` is only
 * "implementation-approximated" by ECMAScript.
 */
const LN2 = 0.6931471805599453;
const SQRT2 = 1.4142135623730951;

/** ln(x) for finite x > 0, to within a few ulps. */
export function deterministicLn(x: number): number {
  let e = 0;
  while (x >= SQRT2) {
    x /= 2;
    e++;
  }
  while (x < SQRT2 / 2) {
    x *= 2;
    e--;
  }
  // ln(x) = 2 atanh(s), s = (x - 1) / (x + 1), |s| < 0.172.
  const s = (x - 1) / (x + 1);
  const s2 = s * s;
  let term = s;
  let sum = 0;
  for (let k = 1; k <= 41; k += 2) {
    sum += term / k;
    term *= s2;
  }
  return 2 * sum + e * LN2;
}

const TABLE_SIZE = 1024;
const SUBLINEAR = new Float64Array(TABLE_SIZE);
for (let tf = 1; tf < TABLE_SIZE; tf++) SUBLINEAR[tf] = Math.fround(1 + deterministicLn(tf));

/** Sublinear term frequency 1 + ln(tf), rounded to float32, for tf >= 1. */
export function sublinearTf(tf: number): number {
  return tf < TABLE_SIZE ? SUBLINEAR[tf]! : Math.fround(1 + deterministicLn(tf));
}
