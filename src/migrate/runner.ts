import { sql, type Kysely } from 'kysely';
import type { Db } from '../db/index.js';
import type { DB } from '../db/index.js';
import { scriptQuery } from '../db/index.js';
import { RefusedError } from '../errors.js';
import type { Logger } from '../log/index.js';
import { readMigrations, type MigrationFile } from './files.js';
import { checkPgvectorAvailable } from './pgvector-check.js';
import { distributeSchema, isDistributed } from './citus.js';
import { failpoint } from '../util/index.js';

/** Key of the session advisory lock that serialises migrations (any int8; "embctl" in hex). */
const MIGRATION_LOCK_KEY = 0x656d6263746cn;

export interface MigrateOptions {
  dryRun?: boolean;
  logger: Logger;
  /** How long to wait for another process's migration lock. */
  lockTimeoutMs?: number;
  dir?: string;
}

export interface MigrateResult {
  applied: { id: number; name: string }[];
  pending: { id: number; name: string }[];
  schemaVersion: number;
  dryRun: boolean;
  /** Citus: the schema was distributed by this run (or would be, with dryRun). */
  distributed?: boolean;
}

/**
 * Apply pending migrations in order, each in its own transaction, under a
 * session advisory lock so that concurrent migrators apply each one once.
 */
export async function migrate(db: Db, opts: MigrateOptions): Promise<MigrateResult> {
  const files = readMigrations(opts.dir);
  const result = await db.kysely.connection().execute(async (conn) => {
    await acquireLock(conn, opts.lockTimeoutMs ?? 60_000);
    try {
      if (!opts.dryRun) await ensureTable(conn);
      const applied = await appliedMigrations(conn);
      checkHistory(files, applied);
      const pending = files.filter((f) => !applied.has(f.id));
      const result: MigrateResult = {
        applied: [],
        pending: pending.map(({ id, name }) => ({ id, name })),
        schemaVersion: Math.max(0, ...applied.keys()),
        dryRun: Boolean(opts.dryRun),
      };
      const distribute = db.distributed && !(await isDistributed(conn));
      if (distribute) result.distributed = true;
      if (opts.dryRun || (pending.length === 0 && !distribute)) return result;
      await checkPgvectorAvailable(conn, db.location);
      for (const file of pending) {
        const t0 = performance.now();
        await conn.transaction().execute(async (trx) => {
          await trx.executeQuery(scriptQuery(file.sql));
          await trx
            .insertInto('embctl_migrations')
            .values({ id: file.id, name: file.name, checksum: file.checksum })
            .execute();
          failpoint('migrate.apply'); // applied, not yet committed
        });
        opts.logger.info(
          { migration: `${pad(file.id)}_${file.name}`, ms: Math.round(performance.now() - t0) },
          'migration applied',
        );
        result.applied.push({ id: file.id, name: file.name });
        result.schemaVersion = file.id;
      }
      result.pending = [];
      if (distribute) {
        const t0 = performance.now();
        await conn.transaction().execute((trx) => distributeSchema(trx));
        opts.logger.info({ ms: Math.round(performance.now() - t0) }, 'schema distributed on the Citus cluster');
      }
      return result;
    } finally {
      await sql`select pg_advisory_unlock(${MIGRATION_LOCK_KEY.toString()}::bigint)`.execute(conn);
    }
  });
  // Outside the session above: PGlite has one connection, held until it ends.
  if (result.applied.length > 0) await db.refreshTypes();
  return result;
}

async function acquireLock(conn: Kysely<DB>, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (let wait = 50; ; wait = Math.min(wait * 2, 1000)) {
    const { rows } = await sql<{ ok: boolean }>`
      select pg_try_advisory_lock(${MIGRATION_LOCK_KEY.toString()}::bigint) as ok`.execute(conn);
    if (rows[0]?.ok) return;
    if (Date.now() >= deadline) {
      throw new RefusedError(
        `another embctl process is migrating this database (waited ${Math.round(timeoutMs / 1000)} s for its lock): try again when it is done`,
      );
    }
    await new Promise((r) => setTimeout(r, wait));
  }
}

async function ensureTable(conn: Kysely<DB>): Promise<void> {
  await sql`create table if not exists embctl_migrations (
    id integer primary key,
    name text not null,
    checksum text not null,
    applied_at timestamptz not null default now())`.execute(conn);
}

async function appliedMigrations(conn: Kysely<DB>): Promise<Map<number, { name: string; checksum: string }>> {
  const { rows: exists } = await sql<{ t: string | null }>`select to_regclass('embctl_migrations')::text as t`.execute(
    conn,
  );
  if (!exists[0]?.t) return new Map();
  const rows = await conn.selectFrom('embctl_migrations').select(['id', 'name', 'checksum']).orderBy('id').execute();
  return new Map(rows.map((r) => [r.id, { name: r.name, checksum: r.checksum }]));
}

function checkHistory(files: MigrationFile[], applied: Map<number, { name: string; checksum: string }>): void {
  const byId = new Map(files.map((f) => [f.id, f]));
  for (const [id, rec] of applied) {
    const file = byId.get(id);
    if (!file) {
      throw new RefusedError(
        `migration ${pad(id)}_${rec.name} was applied to this database but is missing from migrations/: this embctl is older than the database; upgrade embctl`,
      );
    }
    if (file.checksum !== rec.checksum) {
      throw new RefusedError(
        `migration ${pad(id)}_${rec.name} changed after it was applied (checksum differs): restore the original file; schema changes go in a new migration`,
      );
    }
  }
}

/** The highest applied migration, or 0 on a database never migrated. */
export async function schemaVersion(db: Db): Promise<number> {
  const { rows: exists } = await sql<{ t: string | null }>`select to_regclass('embctl_migrations')::text as t`.execute(
    db.kysely,
  );
  if (!exists[0]?.t) return 0;
  const { rows } = await sql<{ v: number | null }>`select max(id) as v from embctl_migrations`.execute(db.kysely);
  return Number(rows[0]?.v ?? 0);
}

function pad(id: number): string {
  return String(id).padStart(4, '0');
}
