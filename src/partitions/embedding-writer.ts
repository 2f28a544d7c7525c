import type { Kysely } from 'kysely';
import type { DB } from '../db/index.js';
import { encodeEmbeddingCopyChunks, type EmbeddingRow } from './copy-encoding.js';
import { copyFromStdinQuery } from '../db/index.js';
import { formatVectorText, vectorProblem } from '../db/index.js';
import { partitionTable } from './partition.js';
import { InputError, InvariantError } from '../errors.js';

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
  for (const r of rows) checkRow(target, r);
}

export function checkRow(target: WriteTarget, r: EmbeddingRow): void {
  const problem = vectorProblem(r.vector, target.dimensions);
  if (problem) {
    throw new InputError(
      `vector for chunk ${r.chunkId} in version ${target.version_key} ${problem}: nothing was written for this batch`,
    );
  }
}

/** Map a CHECK violation of the partition to an error that names the version. */
export function translateWriteError(e: unknown, target: WriteTarget): unknown {
  const err = e as { code?: string; constraint?: string; message?: string; detail?: string };
  // On Citus a worker's CHECK violation in a COPY comes back with the message only (the shard's constraint name).
  const check = err.code === '23514' || /violates check constraint/.test(String(err.message));
  if (check && String(err.constraint ?? err.message).includes('_dims')) {
    return new InputError(
      `a vector with the wrong dimensions was refused by version ${target.version_key} (partition ${partitionTable(target.id)} holds ${target.dimensions}-dimensional vectors)${err.detail ? `: ${err.detail.slice(0, 120)}` : ''}`,
    );
  }
  if (err.code === '22P02' || /NaN|Infinity|infinite/i.test(String(err.message))) {
    return new InputError(`version ${target.version_key} refused a vector: ${err.message}`);
  }
  if (err.code === '23505') {
    return new InputError(
      `version ${target.version_key} already holds a vector for one of these chunks: ${err.detail ?? err.message}`,
    );
  }
  return e;
}

/** Rows per piece of a COPY payload: the server parses one piece while the next is on its way. */
const PIECE_ROWS = 64;

const ENCODED = Symbol('embctl.encodedRows');

/**
 * Rows checked and encoded for one binary COPY into one version's
 * partition. Only `encodeRows` makes one, so every payload that reaches a
 * partition has passed `checkRows`. The backfill makes it in a batch's
 * prepare stage, so that checking and encoding overlap the previous
 * batch's COPY instead of delaying the next one.
 */
export interface EncodedRows {
  readonly [ENCODED]: true;
  readonly versionId: number;
  readonly rows: number;
  readonly pieces: readonly Buffer[];
}

const turn = () => new Promise<void>((resolve) => setImmediate(resolve));

/**
 * Check every vector (dimensions, NaN, ±Infinity; the error names chunk and
 * version) and encode, piece by piece; a bad vector anywhere refuses the
 * whole batch. Before each piece it yields to the event loop, so that a
 * COPY in flight keeps its socket fed (and the server busy) while this
 * batch is being encoded.
 */
export async function encodeRows(target: WriteTarget, rows: readonly EmbeddingRow[]): Promise<EncodedRows> {
  const pieces: Buffer[] = [];
  if (rows.length === 0) return { [ENCODED]: true, versionId: target.id, rows: 0, pieces };
  const encoder = encodeEmbeddingCopyChunks(target.id, rows, PIECE_ROWS, (r) => checkRow(target, r));
  for (;;) {
    await turn();
    const next = encoder.next();
    if (next.done) break;
    pieces.push(next.value);
  }
  return { [ENCODED]: true, versionId: target.id, rows: rows.length, pieces };
}

async function copyPayload(db: Kysely<DB>, target: WriteTarget, payload: Iterable<Buffer>): Promise<void> {
  try {
    await db.executeQuery(
      copyFromStdinQuery(
        `COPY ${partitionTable(target.id)} (chunk_id, embedding_version_id, embedding) FROM STDIN (FORMAT binary)`,
        payload,
      ),
    );
  } catch (e) {
    throw translateWriteError(e, target);
  }
}

/** Binary COPY: COPY FROM STDIN on a server, COPY FROM '/dev/blob' on PGlite. */
export const copyBinaryWriter: EmbeddingWriter & {
  /** Write rows made by `encodeRows` for this version (in the caller's transaction). */
  writeEncoded(db: Kysely<DB>, target: WriteTarget, encoded: EncodedRows): Promise<number>;
} = {
  name: 'copy-binary',
  async write(db, target, rows) {
    if (rows.length === 0) return 0;
    checkRows(target, rows);
    // In pieces: the server parses one while the next arrives.
    await copyPayload(db, target, encodeEmbeddingCopyChunks(target.id, rows, PIECE_ROWS));
    return rows.length;
  },
  async writeEncoded(db, target, encoded) {
    if (encoded?.[ENCODED] !== true) throw new InvariantError('writeEncoded takes rows made by encodeRows only');
    if (encoded.versionId !== target.id) {
      throw new InvariantError(
        `rows encoded for version id ${encoded.versionId} cannot be written into version ${target.version_key} (id ${target.id})`,
      );
    }
    if (encoded.rows === 0) return 0;
    await copyPayload(db, target, encoded.pieces);
    return encoded.rows;
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
        await db
          .insertInto('chunk_embeddings')
          .values(
            slice.map((r) => ({
              chunk_id: r.chunkId,
              embedding_version_id: target.id,
              embedding: formatVectorText(r.vector),
            })),
          )
          .execute();
      }
    } catch (e) {
      throw translateWriteError(e, target);
    }
    return rows.length;
  },
};
