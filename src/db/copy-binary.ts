import { vectorBinarySize, writeVectorBinary } from './vector-codec.js';

/** One row of a version's partition, as the bulk writer takes it. */
export interface EmbeddingRow {
  chunkId: number;
  vector: Float32Array;
}

const SIGNATURE = Buffer.from('PGCOPY\n\xff\r\n\0', 'binary');

/**
 * PostgreSQL binary COPY payload for `chunk_embeddings (chunk_id,
 * embedding_version_id, embedding)`: header, one tuple per row, trailer.
 */
export function encodeEmbeddingCopy(versionId: number, rows: readonly EmbeddingRow[]): Buffer {
  let size = SIGNATURE.length + 8 + 2;
  for (const r of rows) size += 2 + (4 + 8) + (4 + 4) + (4 + vectorBinarySize(r.vector.length));
  const buf = Buffer.allocUnsafe(size);
  let o = SIGNATURE.copy(buf, 0);
  o = buf.writeInt32BE(0, o); // flags
  o = buf.writeInt32BE(0, o); // header extension length
  for (const r of rows) {
    o = buf.writeInt16BE(3, o);
    o = buf.writeInt32BE(8, o);
    o = buf.writeBigInt64BE(BigInt(r.chunkId), o);
    o = buf.writeInt32BE(4, o);
    o = buf.writeInt32BE(versionId, o);
    o = buf.writeInt32BE(vectorBinarySize(r.vector.length), o);
    o = writeVectorBinary(buf, o, r.vector);
  }
  o = buf.writeInt16BE(-1, o);
  if (o !== size) throw new Error(`binary COPY size mismatch: ${o} != ${size}`);
  return buf;
}
