/**
 * A small seeded pseudo-random generator (mulberry32) so that significance
 * tests and bootstrap intervals are reproducible run after run.
 */

export type Random = {
  /** A uniform float in [0, 1). */
  next(): number;
  /** 32 uniform random bits as an unsigned integer. */
  nextUint32(): number;
  /** A uniform integer in [0, n). */
  nextInt(n: number): number;
};

/** Turn any seed (number or string) into a 32-bit state. */
export function seedToUint32(seed: number | string): number {
  if (typeof seed === 'number' && Number.isFinite(seed)) return (Math.trunc(seed) >>> 0) ^ 0x9e3779b9;
  const s = String(seed);
  let h = 0x811c9dc5; // FNV-1a
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

export function createRandom(seed: number | string): Random {
  let state = seedToUint32(seed);
  const nextUint32 = (): number => {
    state = (state + 0x6d2b79f5) | 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (t ^ (t >>> 14)) >>> 0;
  };
  return {
    nextUint32,
    next: () => nextUint32() / 4294967296,
    nextInt: (n: number) => Math.floor((nextUint32() / 4294967296) * n),
  };
}
