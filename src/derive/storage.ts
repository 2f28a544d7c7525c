import { sql, type Kysely } from 'kysely';
import type { DB } from '../db/index.js';
import { annIndexName, columnSizeSql, partitionExists, partitionTable, type DerivedSpec } from '../partitions/index.js';

export interface StorageFigures {
  version: string;
  vectors: number;
  /** Mean stored bytes of one vector (pg_column_size), 0 when the partition is empty. */
  bytesPerVector: number;
  /** The partition's table with its TOAST (pg_table_size), and its ANN index (0 when none). */
  heapBytes: number;
  indexBytes: number;
}

/** What a version's vectors take on disk; null when it has no partition (retired). */
export async function storageFigures(
  db: Kysely<DB>,
  v: DerivedSpec & { id: number; version_key: string },
): Promise<StorageFigures | null> {
  if (!(await partitionExists(db, v.id))) return null;
  const table = partitionTable(v.id);
  const { rows } = await sql<{ n: string; bytes: string | null; heap: string; idx: string | null }>`
    select (select count(*) from ${sql.raw(table)}) as n,
           (select avg(${columnSizeSql(v)}) from ${sql.raw(table)}) as bytes,
           pg_table_size(${table}::regclass) as heap,
           pg_relation_size(to_regclass(${annIndexName(v.id)})) as idx`.execute(db);
  const r = rows[0]!;
  return {
    version: v.version_key,
    vectors: Number(r.n),
    bytesPerVector: r.bytes === null ? 0 : Math.round(Number(r.bytes) * 10) / 10,
    heapBytes: Number(r.heap),
    indexBytes: Number(r.idx ?? 0),
  };
}
