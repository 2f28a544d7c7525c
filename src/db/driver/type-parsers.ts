import { parseVectorText } from '../vector-codec.js';

/**
 * Result parsers shared by both backends so rows look the same everywhere:
 * int8 as number (ids and counts stay far below 2^53), vector and halfvec as
 * Float32Array. Extension type oids are learnt after connecting.
 */
export type Parser = (value: string) => unknown;

export class TypeParsers {
  readonly byOid = new Map<number, Parser>([
    [20, (v) => Number(v)], // int8
    [1016, (v) => parseInt8Array(v)], // int8[]
  ]);

  #record: Record<number, (value: string) => unknown> | undefined;

  setExtensionOids(oids: { vector?: number; halfvec?: number }): void {
    if (oids.vector) this.byOid.set(oids.vector, parseVectorText);
    if (oids.halfvec) this.byOid.set(oids.halfvec, parseVectorText);
    this.#record = undefined;
  }

  /** The PGlite form: `{ [oid]: (value, typeId) => parsed }`. */
  asRecord(): Record<number, (value: string) => unknown> {
    if (!this.#record) {
      this.#record = {};
      for (const [oid, fn] of this.byOid) this.#record[oid] = (v: string) => fn(v);
    }
    return this.#record;
  }
}

function parseInt8Array(text: string): number[] {
  const inner = text.slice(1, -1).trim();
  if (inner === '') return [];
  return inner.split(',').map((s) => Number(s));
}
