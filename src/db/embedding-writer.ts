import type { Kysely } from 'kysely';
import type { DB } from './schema.js';
import { encodeEmbeddingCopyChunks, type EmbeddingRow } from './copy-binary.js';
import { copyFromStdinQuery } from './driver/special-queries.js';
import { formatVectorText, vectorProblem } from './vector-codec.js';
import { partitionTable } from '../versions/partition.js';
import { InputError } from '../errors.js';

export type { EmbeddingRow };

/** What a writer needs to know of the version it writes into. */
export interface WriteTarget {
  id: number;
  version_key: string;
  dimensions: number;
}

/**
 * The bulk vector writer: all rows land or none do (it runs in the caller's
 * transaction). Every vector is checked first — dimensions, NaN, Infinity —
 * and a bad one is refused with the chunk and version named; the
 * partition's CHECK stays the last line of defence.
 */
export interface EmbeddingWriter {
  readonly name: string;
  write(db: Kysely<DB>, target: WriteTarget, rows: readonly EmbeddingRow[]): Promise<number>;
}

export function checkRows(target: WriteTarget, rows: readonly EmbeddingRow[]): void {
  for (const r of rows) {
    const problem = vectorProblem(r.vector, target.dimensions);
    if (problem) {
      throw new InputError(
        `vector for chunk ${r.chunkId} in version ${target.version_key} ${problem}: nothing was written for this batch`,
      );
    }
  }
}

/** Map a CHECK violation of the partition to an error that names the version. */
export function translateWriteError(e: unknown, target: WriteTarget): unknown {
  const err = e as { code?: string; constraint?: string; message?: string; detail?: string };
  if (err.code === '23514' && String(err.constraint ?? err.message).includes('_dims')) {
    return new InputError(
      `a vector with the wrong dimensions was refused by version ${target.version_key} (partition ${partitionTable(target.id)} holds ${target.dimensions}-dimensional vectors)${err.detail ? `: ${err.detail.slice(0, 120)}` : ''}`,
    );
  }
  if (err.code === '22P02' || /NaN|Infinity|infinite/i.test(String(err.message))) {
    return new InputError(`version ${target.version_key} refused a vector: ${err.message}`);
  }
  if (err.code === '23505') {
    return new InputError(`version ${target.version_key} already holds a vector for one of these chunks: ${err.detail ?? err.message}`);
  }
  return e;
}

/** Binary COPY: COPY FROM STDIN on a server, COPY FROM '/dev/blob' on PGlite. */
export const copyBinaryWriter: EmbeddingWriter = {
  name: 'copy-binary',
  async write(db, target, rows) {
    if (rows.length === 0) return 0;
    checkRows(target, rows);
    // Pieces, so the server parses one while the next is encoded.
    const payload = encodeEmbeddingCopyChunks(target.id, rows, 64);
    const table = partitionTable(target.id);
    try {
      await db.executeQuery(copyFromStdinQuery(
        `COPY ${table} (chunk_id, embedding_version_id, embedding) FROM STDIN (FORMAT binary)`, payload));
    } catch (e) {
      throw translateWriteError(e, target);
    }
    return rows.length;
  },
};

/**
 * Multi-row INSERT of text literals (the `execute_values` pattern): the
 * reference the benchmarks compare against, and a fallback.
 */
export const insertValuesWriter: EmbeddingWriter = {
  name: 'insert-values',
  async write(db, target, rows) {
    if (rows.length === 0) return 0;
    checkRows(target, rows);
    try {
      for (let i = 0; i < rows.length; i += 500) {
        const slice = rows.slice(i, i + 500);
        await db.insertInto('chunk_embeddings').values(slice.map((r) => ({
          chunk_id: r.chunkId,
          embedding_version_id: target.id,
          embedding: formatVectorText(r.vector),
        }))).execute();
      }
    } catch (e) {
      throw translateWriteError(e, target);
    }
    return rows.length;
  },
};
