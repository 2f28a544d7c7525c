import { Kysely, PostgresAdapter, PostgresIntrospector, PostgresQueryCompiler, sql, type Dialect } from 'kysely';
import pg from 'pg';
import { join } from 'node:path';
import type { Logger } from '../log/index.js';
import { UnavailableError } from '../errors.js';
import type { DB } from './schema.js';
import { PgDriver, guardPoolClients, pgTypes } from './driver/pg-driver.js';
import { PgliteDriver } from './driver/pglite-driver.js';
import { TypeParsers } from './driver/type-parsers.js';
import { connectionError, redactUrl } from './connection-errors.js';
import { prepareHome } from './home-lock.js';

export type Backend = 'pglite' | 'postgres';

/** An open embctl database, on either backend. */
export interface Db {
  readonly kysely: Kysely<DB>;
  readonly backend: Backend;
  /** Where it lives, safe to print (data folder, or URL without password). */
  readonly location: string;
  /** Re-read extension type oids (after `CREATE EXTENSION vector`). */
  refreshTypes(): Promise<void>;
  /**
   * A Citus coordinator (the `citus` extension is in the database): searches
   * run in a transaction so that their settings reach the shards, and
   * migrate distributes the schema.
   */
  readonly distributed: boolean;
  /** The pg pool (server backend only): LISTEN/NOTIFY and raw sessions. */
  readonly pool?: pg.Pool;
  close(): Promise<void>;
}

/**
 * What a query function accepts: a `Db`, or a kysely handle inside one (a
 * transaction, so that several calls commit together).
 */
export type Queryable = Db | Kysely<DB>;

/** The kysely handle to run a query on. */
export function queryable(db: Queryable): Kysely<DB> {
  return 'kysely' in db && 'backend' in db ? db.kysely : (db as Kysely<DB>);
}

export interface OpenOptions {
  databaseUrl?: string;
  homeDir: string;
  poolSize?: number;
  logger: Logger;
}

export async function openDatabase(opts: OpenOptions): Promise<Db> {
  return opts.databaseUrl ? openServer(opts.databaseUrl, opts) : openEmbedded(opts.homeDir, opts);
}

/**
 * How long a pooled connection may stay idle before the pool closes it (pg's
 * default is 10 s). A new backend's first vector searches are slow: in a
 * run of bench:search (50k × 384-d, HNSW) with a log line per new pool
 * connection added by hand, the ten searches after the pool opened one
 * took 101, 58, 38, 30, 26 … 15 ms, where a warm one answers in about 6. pg-pool hands out the client released last, so a connection
 * opened for a moment of overlap (a search and the shadow settings' 5 s
 * refresh at once) takes over the next searches, and the warm one waits
 * below it; with 10 s it is closed if it waits that long, and a later
 * overlap pays again. Kept for minutes, the pool's connections (at most
 * `poolSize`) stay warm.
 */
export const POOL_IDLE_MS = 5 * 60_000;

async function openServer(url: string, opts: OpenOptions): Promise<Db> {
  const parsers = new TypeParsers();
  const newPool = (options?: string) => {
    const p = new pg.Pool({
      connectionString: url,
      max: opts.poolSize ?? 10,
      application_name: 'embctl',
      connectionTimeoutMillis: 10_000,
      idleTimeoutMillis: POOL_IDLE_MS,
      types: pgTypes(parsers),
      ...(options && { options }),
    });
    // An idle client died (server restarted, backend terminated): the pool drops it and opens another when needed.
    p.on('error', (e) => opts.logger.debug({ err: e.message }, 'idle PostgreSQL connection closed by the server'));
    guardPoolClients(p); // from the first checkout on (open's own, the watcher's), no client error goes unhandled
    return p;
  };
  let pool = newPool();
  let distributed: boolean;
  try {
    const client = await pool.connect();
    try {
      distributed = await hasCitus(client);
    } finally {
      client.release();
    }
  } catch (e) {
    await pool.end().catch(() => {});
    throw connectionError(e, url);
  }
  if (distributed) {
    // Citus: a transaction that read several shards in parallel cannot then
    // write a reference table (the bookkeeping tables are: migrate/citus.ts),
    // so sessions run multi-shard statements over one connection per node,
    // and a search (which only reads) asks for parallel again (session-settings.ts).
    // Joins of chunks by their text's sha256 (reuse, backlog) are not on the
    // distribution column: Citus runs them as repartition joins when allowed.
    // A SET LOCAL in a transaction reaches the shards' queries too.
    await pool.end();
    pool = newPool(
      '-c citus.multi_shard_modify_mode=sequential -c citus.enable_repartition_joins=on -c citus.propagate_set_commands=local',
    );
  }
  const driver = new PgDriver(pool);
  driver.distributed = distributed;
  const kysely = new Kysely<DB>({ dialect: dialectOf(driver) });
  const db: Db = {
    kysely,
    backend: 'postgres',
    distributed: driver.distributed,
    location: redactUrl(url),
    pool,
    refreshTypes: () => refreshTypes(kysely, parsers),
    close: () => kysely.destroy(),
  };
  await db.refreshTypes();
  return db;
}

async function openEmbedded(homeDir: string, _opts: OpenOptions): Promise<Db> {
  const lock = prepareHome(homeDir);
  const parsers = new TypeParsers();
  let pglite;
  try {
    const { PGlite } = await import('@electric-sql/pglite');
    const { vector } = await import('@electric-sql/pglite-pgvector');
    pglite = await PGlite.create({ dataDir: join(homeDir, 'pgdata'), extensions: { vector } });
  } catch (e) {
    lock.release();
    throw new UnavailableError(`cannot open the embedded database in ${homeDir}: ${(e as Error).message}`);
  }
  const kysely = new Kysely<DB>({ dialect: dialectOf(new PgliteDriver(pglite, parsers)) });
  let closed = false;
  const db: Db = {
    kysely,
    backend: 'pglite',
    distributed: false,
    location: homeDir,
    refreshTypes: () => refreshTypes(kysely, parsers),
    async close() {
      if (closed) return;
      closed = true;
      try {
        await kysely.destroy();
      } finally {
        lock.release();
      }
    },
  };
  await db.refreshTypes();
  return db;
}

/** Kysely's PostgreSQL compiler and introspection over our own driver. */
function dialectOf(driver: PgDriver | PgliteDriver): Dialect {
  return {
    createAdapter: () => new PostgresAdapter(),
    createDriver: () => driver,
    createQueryCompiler: () => new PostgresQueryCompiler(),
    createIntrospector: (db: Kysely<any>) => new PostgresIntrospector(db),
  };
}

async function hasCitus(client: pg.PoolClient): Promise<boolean> {
  const { rows } = await client.query<{ ok: boolean }>(
    `select exists (select 1 from pg_extension where extname = 'citus') as ok`,
  );
  return Boolean(rows[0]?.ok);
}

async function refreshTypes(kysely: Kysely<DB>, parsers: TypeParsers): Promise<void> {
  const { rows } = await sql<{ typname: string; oid: number }>`
    select typname, oid::int as oid from pg_type where typname in ('vector', 'halfvec')`.execute(kysely);
  const oids: { vector?: number; halfvec?: number } = {};
  for (const r of rows) oids[r.typname as 'vector' | 'halfvec'] = Number(r.oid);
  parsers.setExtensionOids(oids);
}
