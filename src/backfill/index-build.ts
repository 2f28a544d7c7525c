import { sql, type Kysely } from 'kysely';
import { sessionSettingsQuery, type Db } from '../db/index.js';
import type { DB, VersionState } from '../db/index.js';
import { InputError, RefusedError } from '../errors.js';
import type { Logger } from '../log/index.js';
import {
  annIndexName,
  annIndexState,
  annIndexStatement,
  partitionTable,
  type PartitionSpec,
} from '../partitions/index.js';
import { failpoint } from '../util/index.js';

export interface IndexOptions {
  /** Drop and build again even when a valid index exists. */
  rebuild?: boolean;
  /** Allow `rebuild` on the active version (its searches scan until the build is done). */
  force?: boolean;
  /** e.g. `1GB` (server builds). */
  maintenanceWorkMem?: string;
  /** Parallel maintenance workers for the build (server). */
  parallelWorkers?: number;
  logger: Logger;
}

export interface IndexResult {
  built: boolean;
  reason: string;
  ms: number;
}

const INDEX_LOCK = 0x656d6269; // "embi"
/** maintenance_work_mem of an index build on PGlite when none is given. */
export const EMBEDDED_MAINTENANCE_WORK_MEM = '512MB';
const LOCK_POLL_MS = 200;

/** What buildIndex needs of a version; `state` and `active` (a VersionRow has them) enable its refusals. */
export type IndexTarget = PartitionSpec & { version_key: string; state?: VersionState; active?: boolean };

/**
 * Build a version's ANN index after its load (5–7× faster than inserting
 * into an indexed partition), then ANALYZE. On a server: with
 * maintenance_work_mem and parallel workers, CONCURRENTLY for the active
 * version (searches and writes go on), else in a transaction (searches go
 * on, writes wait); PostgreSQL sizes parallel builds from the (TOASTed,
 * tiny-looking) heap, so parallel_workers is set on the partition first.
 * An invalid index left by a failed concurrent build is replaced. One
 * process builds; another that gets here meanwhile waits for it and then
 * finds the index valid (so a rerun after a crash never leaves the version
 * short of ready while the dead process's build is still running on the server).
 * Refuses a retired version (no partition), and a rebuild of the active
 * version without `force`.
 */
export async function buildIndex(db: Db, v: IndexTarget, opts: IndexOptions): Promise<IndexResult> {
  const key = v.version_key;
  if (v.state === 'retired') throw new RefusedError(`version ${key} is retired: it has no partition to index`);
  if (v.active && opts.rebuild && !opts.force) {
    throw new RefusedError(
      `version ${key} is active: a rebuild drops its index first, so searches would scan until it is built again; pass --force to do it anyway, or activate another version first`,
    );
  }
  if (v.index_kind === 'none') return { built: false, reason: 'index kind none (exact search)', ms: 0 };
  if (opts.maintenanceWorkMem !== undefined && !/^\d+\s*(kB|MB|GB)$/.test(opts.maintenanceWorkMem)) {
    throw new InputError(`--maintenance-work-mem "${opts.maintenanceWorkMem}" is not a size like 512MB or 2GB`);
  }
  const server = db.backend === 'postgres';
  const table = partitionTable(v.id);
  return db.kysely.connection().execute(async (conn) => {
    // Poll rather than block in pg_advisory_lock: a blocked statement holds a
    // snapshot, and CREATE INDEX CONCURRENTLY in the holder waits for every
    // older snapshot to go away: a deadlock that PostgreSQL breaks by killing us.
    const tryLock = async () =>
      (await sql<{ ok: boolean }>`select pg_try_advisory_lock(${INDEX_LOCK}, ${v.id}) as ok`.execute(conn)).rows[0]
        ?.ok === true;
    if (!(await tryLock())) {
      opts.logger.info({ version: v.version_key }, 'another process is building this index: waiting for it');
      while (!(await tryLock())) await new Promise((r) => setTimeout(r, LOCK_POLL_MS));
    }
    try {
      const state = await annIndexState(conn, v.id);
      if (state === 'valid' && !opts.rebuild) return { built: false, reason: 'index already valid', ms: 0 };
      // Only the active version's partition takes writes that must not wait (sync while it serves):
      // it is built CONCURRENTLY. Any other is built by a plain CREATE INDEX in a transaction, which
      // lets searches go on, makes writers wait, skips CONCURRENTLY's second scan and validation
      // pass (bench/scale: about 1.25x faster) and leaves nothing invalid if it dies.
      const concurrently = server && (await isActive(conn, v.id));
      if (state !== 'missing') {
        await sql.raw(`DROP INDEX ${concurrently ? 'CONCURRENTLY ' : ''}IF EXISTS ${annIndexName(v.id)}`).execute(conn);
      }
      const rows = await sql<{ n: number }>`select count(*) as n from ${sql.raw(table)}`.execute(conn);
      const t0 = performance.now();
      if (server) {
        if (opts.maintenanceWorkMem)
          await sql`select set_config('maintenance_work_mem', ${opts.maintenanceWorkMem.replace(/\s+/g, '')}, false)`.execute(
            conn,
          );
        const workers = opts.parallelWorkers ?? 2;
        await sql`select set_config('max_parallel_maintenance_workers', ${String(workers)}, false)`.execute(conn);
        await sql
          .raw(`ALTER TABLE ${table} SET (parallel_workers = ${Math.max(0, Math.min(64, Math.trunc(workers)))})`)
          .execute(conn);
      }
      const statement = sql.raw(annIndexStatement(v, { concurrently, rowCount: Number(rows.rows[0]?.n ?? 0) })!);
      try {
        if (concurrently) {
          // CONCURRENTLY cannot run in a transaction. A crash test dies here,
          // once the statement has gone out and while the server builds.
          const building = statement.execute(conn);
          await Promise.race([building, new Promise((r) => setImmediate(r))]);
          failpoint('index.build');
          await building;
        } else {
          await conn.transaction().execute(async (trx) => {
            // PGlite's default (64MB) holds the HNSW graph of ~30k 384-d vectors; past it the build
            // goes on disk and slows several times (40k: 121 s at 64MB, 31 s at 320MB). The setting
            // is a cap, not an allocation.
            if (!server) {
              const mwm = opts.maintenanceWorkMem?.replace(/\s+/g, '') ?? EMBEDDED_MAINTENANCE_WORK_MEM;
              await sql`select set_config('maintenance_work_mem', ${mwm}, true)`.execute(trx);
            } else if (db.distributed && opts.maintenanceWorkMem) {
              // On Citus each shard's index is built by its worker: SET LOCAL reaches them.
              await trx.executeQuery(
                sessionSettingsQuery({ maintenance_work_mem: opts.maintenanceWorkMem.replace(/\s+/g, '') }),
              );
            }
            await statement.execute(trx);
            failpoint('index.build'); // built, not yet committed
          });
        }
      } finally {
        if (server) await sql`reset maintenance_work_mem`.execute(conn).catch(() => {});
        if (server) await sql`reset max_parallel_maintenance_workers`.execute(conn).catch(() => {});
      }
      await sql.raw(`ANALYZE ${table}`).execute(conn);
      const ms = Math.round(performance.now() - t0);
      opts.logger.info(
        { version: v.version_key, index: annIndexName(v.id), rows: Number(rows.rows[0]?.n ?? 0), ms },
        'ANN index built',
      );
      return { built: true, reason: state === 'missing' ? 'built' : 'rebuilt', ms };
    } finally {
      await sql`select pg_advisory_unlock(${INDEX_LOCK}, ${v.id})`.execute(conn);
    }
  });
}

async function isActive(conn: Kysely<DB>, versionId: number): Promise<boolean> {
  const r = await conn.selectFrom('embedding_versions').select('active').where('id', '=', versionId).executeTakeFirst();
  return r?.active === true;
}
