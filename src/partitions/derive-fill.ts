import { sql, type Kysely } from 'kysely';
import type { DB } from '../db/index.js';
import { failpoint } from '../util/index.js';
import { partitionTable } from './partition.js';
import { derivationOf, transformSql, vectorColumn, type DerivedSpec } from './transform.js';

export interface DeriveFillProgress {
  /** Rows the derived partition holds now, and rows the parent's holds. */
  done: number;
  total: number;
  /** Rows this call wrote. */
  written: number;
  batches: number;
}

export interface DeriveFillOptions {
  /** Parent rows per `INSERT … SELECT` (default 2000). */
  batchSize?: number;
  /** Checked between batches: a stop leaves whole batches only (a rerun continues). */
  signal?: AbortSignal;
  onProgress?: (p: DeriveFillProgress) => void;
}

export interface DeriveFillResult extends DeriveFillProgress {
  /** False when `signal` stopped it before the last batch. */
  complete: boolean;
}

type Exec = Kysely<DB>;

/**
 * Fill a derived version's partition from its parent's, inside the
 * database: one `INSERT … SELECT transform(embedding)` per range of chunk
 * ids, each its own statement (its own transaction), `ON CONFLICT DO
 * NOTHING`, so a batch is written whole or not at all and a rerun after a
 * crash or a stop continues after the highest chunk id written. A last pass
 * writes what the ranges missed (parent vectors added below that id since,
 * e.g. by `sync`): after it, every parent vector has its derived vector.
 * No encoder is called; no text leaves the database.
 */
export async function fillDerived(
  db: Exec,
  derived: DerivedSpec & { id: number },
  opts: DeriveFillOptions = {},
): Promise<DeriveFillResult> {
  const d = derivationOf(derived);
  if (!d) throw new Error(`version ${derived.id} is not a derived version`);
  const batchSize = opts.batchSize ?? 2000;
  if (!Number.isInteger(batchSize) || batchSize < 1 || batchSize > 1_000_000)
    throw new Error(`batch size must be 1 to 1000000, not ${batchSize}`);
  const parent = sql.raw(partitionTable(d.parentId));
  const target = sql.raw(partitionTable(derived.id));
  const column = sql.raw(vectorColumn(derived));
  const value = transformSql(d, sql`p.embedding`);

  const count = async (t: typeof parent) =>
    Number((await sql<{ n: string }>`select count(*) as n from ${t}`.execute(db)).rows[0]?.n ?? 0);
  const total = await count(parent);
  const start = await sql<{ m: string | null }>`select max(chunk_id) as m from ${target}`.execute(db);
  let after = Number(start.rows[0]?.m ?? 0);
  const p: DeriveFillProgress = { done: await count(target), total, written: 0, batches: 0 };
  opts.onProgress?.({ ...p });

  const insert = (where: ReturnType<typeof sql>) =>
    sql`insert into ${target} (chunk_id, embedding_version_id, ${column})
        select p.chunk_id, ${derived.id}, ${value} from ${parent} p where ${where}
        on conflict do nothing`.execute(db);

  for (;;) {
    if (opts.signal?.aborted) return { ...p, complete: false };
    const next = await sql<{ upto: string | null }>`
      select max(chunk_id) as upto from (
        select chunk_id from ${parent} where chunk_id > ${after} order by chunk_id limit ${batchSize}) s`.execute(db);
    const upto = next.rows[0]?.upto;
    if (upto === null || upto === undefined) break;
    const r = await insert(sql`p.chunk_id > ${after} and p.chunk_id <= ${Number(upto)}`);
    failpoint('derive.batch'); // committed: a crash here loses nothing
    const n = Number(r.numAffectedRows ?? 0);
    p.written += n;
    p.done += n;
    p.batches += 1;
    after = Number(upto);
    opts.onProgress?.({ ...p });
  }
  const rest = await insert(sql`not exists (select 1 from ${target} x where x.chunk_id = p.chunk_id)`);
  const n = Number(rest.numAffectedRows ?? 0);
  if (n > 0) {
    p.written += n;
    p.done += n;
    p.batches += 1;
    opts.onProgress?.({ ...p });
  }
  return { ...p, complete: true };
}
