import { sql, type Kysely } from 'kysely';
import type { DB } from '../db/index.js';

/**
 * Citus: on a coordinator (`db.distributed`: the `citus` extension is in the database), the
 * schema the migrations made is distributed once, in its own transaction
 * right after they are applied (a migrate that died in between finds the
 * schema not distributed and does it on its next run):
 *
 *  - `document_chunks` is distributed by `id`, and `chunk_embeddings` (and
 *    with it every version's partition, made later) by `chunk_id`,
 *    colocated: a chunk's vectors live on the shard of its chunk, so the
 *    foreign key between them and a search's join stay on one node;
 *  - `embedding_versions` is a reference table (a copy on every node, written
 *    in one distributed transaction): the one-active-version index holds on
 *    each copy, and every shard's query can join it;
 *  - the bookkeeping tables (events, shadow, evaluation, judgments, canary,
 *    Batch API) are reference tables too: each shard's query can join them
 *    to its chunks whatever the join (a text's sha256, a correlated EXISTS),
 *    and their unique constraints and foreign keys hold as on one node;
 *  - the backfill's lease tables stay on the coordinator (COORDINATOR_TABLES,
 *    below, says why).
 * ARCHITECTURE.md ("On Citus") explains the choice.
 *
 * Two things cannot carry over as they are. Citus refuses a UNIQUE
 * constraint that leaves out the distribution column, so `semantic_key` is
 * unique by an ordinary index plus ingest, its only writer, which already
 * runs one batch at a time under a coordinator advisory lock and looks a key
 * up before it inserts it. And a table must be distributed before a
 * foreign key from it to another distributed or reference table: the two
 * keys of `chunk_embeddings` are dropped and made again around the calls.
 */

/** Is the schema distributed already (document_chunks has a distribution column)? */
export async function isDistributed(db: Kysely<DB>): Promise<boolean> {
  const { rows } = await sql<{ ok: boolean }>`
    select exists (select 1 from pg_dist_partition
                   where logicalrelid = to_regclass('document_chunks') and partmethod = 'h') as ok`.execute(db);
  return Boolean(rows[0]?.ok);
}

/**
 * The bookkeeping tables, made reference tables, in an order where a table
 * comes after the tables its foreign keys point at.
 */
export const REFERENCE_TABLES = [
  'version_events',
  'shadow_configs',
  'shadow_queries',
  'shadow_drops',
  'evaluation_runs',
  'relevance_judgments',
  'judge_calibrations',
  'encoder_canaries',
  'encoder_canary_texts',
  'batch_api_jobs',
  'batch_api_items',
  'batch_api_texts',
] as const;

/**
 * Distribute the schema (see above), inside the caller's transaction. DDL on
 * tables that a foreign key ties to a reference table must run over one
 * connection per node, hence the sequential mode.
 */
export async function distributeSchema(trx: Kysely<DB>): Promise<void> {
  await sql`set local citus.multi_shard_modify_mode to 'sequential'`.execute(trx);
  await sql`alter table chunk_embeddings drop constraint chunk_embeddings_chunk_id_fkey`.execute(trx);
  await sql`alter table chunk_embeddings drop constraint chunk_embeddings_embedding_version_id_fkey`.execute(trx);
  await sql`alter table document_chunks drop constraint document_chunks_semantic_key_key`.execute(trx);
  await sql`create index document_chunks_semantic_key_idx on document_chunks (semantic_key)`.execute(trx);
  await sql`select create_distributed_table('document_chunks', 'id')`.execute(trx);
  await sql`select create_distributed_table('chunk_embeddings', 'chunk_id', colocate_with => 'document_chunks')`.execute(
    trx,
  );
  // This also makes every table with a key to it a Citus local table on the coordinator: the lease
  // tables (COORDINATOR_TABLES) stay so; the others become reference tables below.
  await sql`select create_reference_table('embedding_versions')`.execute(trx);
  await sql`alter table chunk_embeddings add constraint chunk_embeddings_chunk_id_fkey
    foreign key (chunk_id) references document_chunks (id)`.execute(trx);
  await sql`alter table chunk_embeddings add constraint chunk_embeddings_embedding_version_id_fkey
    foreign key (embedding_version_id) references embedding_versions (id)`.execute(trx);
  for (const table of REFERENCE_TABLES) await sql`select create_reference_table(${table}::regclass)`.execute(trx);
}

/**
 * The backfill's lease tables stay on the coordinator (Citus local tables):
 * workers claim batches with FOR UPDATE SKIP LOCKED and update their leases
 * and run rows many times a second. On a reference table each of those
 * writes is replicated to every node, under a lock Citus takes per table to
 * keep the copies in one order, and two workers updating a batch and a run
 * row in opposite orders deadlocked (measured on the test cluster). On the
 * coordinator they are plain row locks, as on one node.
 */
export const COORDINATOR_TABLES = ['backfill_runs', 'backfill_batches', 'backfill_items'] as const;
