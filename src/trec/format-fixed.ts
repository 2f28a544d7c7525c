/**
 * Numbers printed the way C's printf("%.Nf") prints them with glibc: the
 * exact binary value rounded to N decimals, ties to even. JavaScript's
 * toFixed rounds exact ties up instead (0.03125 -> "0.0313", where
 * trec_eval prints 0.0312), so trec_eval's output cannot be reproduced with it.
 */

const BUF = new DataView(new ArrayBuffer(8));

/** `x` as an exact fraction: |x| = mantissa * 2^exponent. */
function exactParts(x: number): { mantissa: bigint; exponent: number } {
  BUF.setFloat64(0, Math.abs(x));
  const hi = BUF.getUint32(0);
  const lo = BUF.getUint32(4);
  const biased = (hi >>> 20) & 0x7ff;
  const fraction = (BigInt(hi & 0xfffff) << 32n) | BigInt(lo);
  if (biased === 0) return { mantissa: fraction, exponent: -1074 };
  return { mantissa: fraction | (1n << 52n), exponent: biased - 1075 };
}

/**
 * printf("%.{digits}f", x). NaN prints as `-nan`: trec_eval's NaNs come from
 * 0.0/0.0, which on x86-64 yields the negative default NaN.
 */
export function formatFixed(x: number, digits: number): string {
  if (Number.isNaN(x)) return '-nan';
  const negative = x < 0 || Object.is(x, -0);
  if (!Number.isFinite(x)) return negative ? '-inf' : 'inf';
  const { mantissa, exponent } = exactParts(x);
  const scale = 10n ** BigInt(digits);
  let units: bigint;
  if (exponent >= 0) {
    units = (mantissa << BigInt(exponent)) * scale;
  } else {
    const num = mantissa * scale;
    const den = 1n << BigInt(-exponent);
    units = num / den;
    const twice = (num % den) * 2n;
    if (twice > den || (twice === den && units % 2n === 1n)) units += 1n;
  }
  const text = units.toString().padStart(digits + 1, '0');
  const body = digits === 0 ? text : `${text.slice(0, -digits)}.${text.slice(-digits)}`;
  return negative ? `-${body}` : body;
}

/** trec_eval's value column, `%6.4f`. */
export function formatTrecValue(x: number): string {
  return formatFixed(x, 4).padStart(6);
}
