import { formatVectorText, vectorBinarySize, writeVectorBinary } from './vector-codec.js';

/**
 * A query vector as a statement parameter, always cast in SQL as
 * `${q}::vector(n)`. Each driver sends it its own way: the server's in
 * pgvector's binary format (vector_recv: int16 dimensions, int16 0, then
 * big-endian float4), so nothing formats it as decimals here nor parses
 * them there; PGlite's as pgvector text. Formatting the shortest decimals
 * took 0.43 ms for 384 dimensions and 3.2 ms for 1536, per search. Both
 * forms carry the same float32 values bit for bit, so results do not
 * depend on the backend.
 */
export class QueryVector {
  #text: string | undefined;
  #binary: Buffer | undefined;

  constructor(readonly values: ArrayLike<number>) {}

  get dimensions(): number {
    return this.values.length;
  }

  /** pgvector text, e.g. `[0.1,-2]`. */
  text(): string {
    return (this.#text ??= formatVectorText(this.values));
  }

  /** pgvector's binary input format (vector_recv), as the COPY writer encodes a vector. */
  binary(): Buffer {
    if (!this.#binary) {
      this.#binary = Buffer.allocUnsafe(vectorBinarySize(this.values.length));
      writeVectorBinary(this.#binary, 0, this.values);
    }
    return this.#binary;
  }
}

/** Statement parameters for a driver: query vectors in binary (server) or text (PGlite); the rest as they are. */
export function driverParameters(parameters: readonly unknown[], binaryVectors: boolean): unknown[] {
  if (!parameters.some((p) => p instanceof QueryVector)) return parameters as unknown[];
  return parameters.map((p) => (p instanceof QueryVector ? (binaryVectors ? p.binary() : p.text()) : p));
}
