/**
 * MurmurHash3 x86_32 (Austin Appleby, public domain), in pure integer
 * arithmetic so every platform and Node version gives the same 32 bits.
 * Returns an unsigned 32-bit integer.
 */

const C1 = 0xcc9e2d51;
const C2 = 0x1b873593;

function mixK(k: number): number {
  k = Math.imul(k, C1);
  k = (k << 15) | (k >>> 17);
  return Math.imul(k, C2);
}

function mixH(h: number, k: number): number {
  h ^= mixK(k);
  h = (h << 13) | (h >>> 19);
  return (Math.imul(h, 5) + 0xe6546b64) | 0;
}

/** The MurmurHash3 finaliser: a bijective avalanche of 32 bits. */
export function fmix32(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** MurmurHash3 x86_32 of `bytes[start, end)`. */
export function murmur3Bytes(bytes: Uint8Array, start: number, end: number, seed: number): number {
  let h = seed | 0;
  const len = end - start;
  const blockEnd = start + (len & ~3);
  let i = start;
  for (; i < blockEnd; i += 4) {
    const k = bytes[i]! | (bytes[i + 1]! << 8) | (bytes[i + 2]! << 16) | (bytes[i + 3]! << 24);
    h = mixH(h, k);
  }
  let k = 0;
  switch (len & 3) {
    case 3:
      k ^= bytes[i + 2]! << 16;
    // falls through
    case 2:
      k ^= bytes[i + 1]! << 8;
    // falls through
    case 1:
      k ^= bytes[i]!;
      h ^= mixK(k);
  }
  return fmix32(h ^ len);
}

/** MurmurHash3 x86_32 of two 32-bit words (little-endian), e.g. an ordered pair of hashes. */
export function murmur3Pair(a: number, b: number, seed: number): number {
  let h = mixH(seed | 0, a | 0);
  h = mixH(h, b | 0);
  return fmix32(h ^ 8);
}
