/**
 * A provider changing its model behind the same name, for the local OpenAI
 * test server (`server.setDrift`): every vector it returns is rotated or
 * noised, and the response may report another model name. Deterministic.
 */
import { createHash } from 'node:crypto';

export type Drift =
  /**
   * Rotate every pair of coordinates (0,1), (2,3), ... by `radians`: a unit
   * vector's cosine to its old self is then exactly cos(radians).
   */
  | { kind: 'rotate'; radians: number; reportModel?: string }
  /** Add Gaussian noise of this standard deviation per coordinate (seeded by the text), then renormalise. */
  | { kind: 'noise'; sigma: number; reportModel?: string }
  /** Vectors unchanged; only the reported model name differs. */
  | { kind: 'rename'; reportModel: string };

/** The vector a drifted model returns for `text`, from the one the original model returns. */
export function applyDrift(drift: Drift, v: Float32Array, text: string): Float32Array {
  if (drift.kind === 'rename') return v;
  const out = new Float32Array(v.length);
  if (drift.kind === 'rotate') {
    const c = Math.cos(drift.radians);
    const s = Math.sin(drift.radians);
    for (let i = 0; i + 1 < v.length; i += 2) {
      out[i] = c * v[i]! - s * v[i + 1]!;
      out[i + 1] = s * v[i]! + c * v[i + 1]!;
    }
    if (v.length % 2) out[v.length - 1] = v[v.length - 1]!;
    return out;
  }
  const seed = createHash('sha256').update('drift\0').update(text).digest();
  let state = seed.readUInt32LE(0) | 1;
  const uniform = () => {
    state ^= state << 13;
    state >>>= 0;
    state ^= state >>> 17;
    state ^= state << 5;
    state >>>= 0;
    return (state + 0.5) / 4294967296;
  };
  let norm = 0;
  for (let i = 0; i < v.length; i++) {
    const gauss = Math.sqrt(-2 * Math.log(uniform())) * Math.cos(2 * Math.PI * uniform());
    out[i] = v[i]! + drift.sigma * gauss;
    norm += out[i]! * out[i]!;
  }
  norm = Math.sqrt(norm) || 1;
  for (let i = 0; i < v.length; i++) out[i] = out[i]! / norm;
  return out;
}
