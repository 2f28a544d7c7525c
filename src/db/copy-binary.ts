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
  return Buffer.concat([...encodeEmbeddingCopyChunks(versionId, rows, rows.length || 1)]);
}

/**
 * The same payload in pieces of `rowsPerChunk` tuples (the first piece
 * carries the header, the last the trailer), so a server can parse one
 * piece while the next is on its way. `checkRow`, when given, sees each row
 * just before it is encoded (one pass over the vector's memory) and may
 * throw to stop.
 */
export function* encodeEmbeddingCopyChunks(versionId: number, rows: readonly EmbeddingRow[], rowsPerChunk = 64, checkRow?: (row: EmbeddingRow) => void): Generator<Buffer> {
  const step = Math.max(1, rowsPerChunk);
  for (let start = 0; start < rows.length || start === 0; start += step) {
    const first = start === 0;
    const last = start + step >= rows.length;
    yield encodeTuples(versionId, rows, start, Math.min(rows.length, start + step), first, last, checkRow);
    if (rows.length === 0) return;
  }
}

function encodeTuples(versionId: number, rows: readonly EmbeddingRow[], from: number, to: number, header: boolean, trailer: boolean, checkRow?: (row: EmbeddingRow) => void): Buffer {
  let size = (header ? SIGNATURE.length + 8 : 0) + (trailer ? 2 : 0);
  for (let i = from; i < to; i++) size += 2 + (4 + 8) + (4 + 4) + (4 + vectorBinarySize(rows[i]!.vector.length));
  const buf = Buffer.allocUnsafe(size);
  let o = 0;
  if (header) {
    o = SIGNATURE.copy(buf, 0);
    o = buf.writeInt32BE(0, o); // flags
    o = buf.writeInt32BE(0, o); // header extension length
  }
  for (let i = from; i < to; i++) {
    const r = rows[i]!;
    checkRow?.(r);
    o = buf.writeInt16BE(3, o);
    o = buf.writeInt32BE(8, o);
    o = buf.writeBigInt64BE(BigInt(r.chunkId), o);
    o = buf.writeInt32BE(4, o);
    o = buf.writeInt32BE(versionId, o);
    o = buf.writeInt32BE(vectorBinarySize(r.vector.length), o);
    o = writeVectorBinary(buf, o, r.vector);
  }
  if (trailer) o = buf.writeInt16BE(-1, o);
  if (o !== size) throw new Error(`binary COPY size mismatch: ${o} != ${size}`);
  return buf;
}
