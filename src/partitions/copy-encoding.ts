import { vectorBinarySize, writeVectorBinary } from '../db/index.js';

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
export function* encodeEmbeddingCopyChunks(
  versionId: number,
  rows: readonly EmbeddingRow[],
  rowsPerChunk = 64,
  checkRow?: (row: EmbeddingRow) => void,
): Generator<Buffer> {
  const step = Math.max(1, rowsPerChunk);
  for (let start = 0; start < rows.length || start === 0; start += step) {
    const first = start === 0;
    const last = start + step >= rows.length;
    yield encodeTuples(versionId, rows, start, Math.min(rows.length, start + step), first, last, checkRow);
    if (rows.length === 0) return;
  }
}

function encodeTuples(
  versionId: number,
  rows: readonly EmbeddingRow[],
  from: number,
  to: number,
  header: boolean,
  trailer: boolean,
  checkRow?: (row: EmbeddingRow) => void,
): Buffer {
  let size = (header ? SIGNATURE.length + 8 : 0) + (trailer ? 2 : 0);
  for (let i = from; i < to; i++) size += 2 + (4 + 8) + (4 + 4) + (4 + vectorBinarySize(rows[i]!.vector.length));
  const buf = Buffer.allocUnsafe(size);
  let o = 0;
  if (header) {
    o = SIGNATURE.copy(buf, 0);
    o = buf.writeInt32BE(0, o); // flags
    o = buf.writeInt32BE(0, o); // header extension length
  }
  // The fixed-width fields through a DataView (big-endian; no BigInt per row).
  const dv = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  for (let i = from; i < to; i++) {
    const r = rows[i]!;
    checkRow?.(r);
    const id = r.chunkId;
    if (!Number.isSafeInteger(id)) throw new RangeError(`chunk id ${id} is not an integer`);
    const hi = Math.floor(id / 4294967296);
    dv.setInt16(o, 3); // fields
    dv.setInt32(o + 2, 8); // chunk_id: int8
    dv.setInt32(o + 6, hi);
    dv.setUint32(o + 10, id - hi * 4294967296);
    dv.setInt32(o + 14, 4); // embedding_version_id: int4
    dv.setInt32(o + 18, versionId);
    dv.setInt32(o + 22, vectorBinarySize(r.vector.length));
    o = writeVectorBinary(buf, o + 26, r.vector);
  }
  if (trailer) o = buf.writeInt16BE(-1, o);
  if (o !== size) throw new Error(`binary COPY size mismatch: ${o} != ${size}`);
  return buf;
}
