import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { openDatabase, type Db } from '../../src/db/open.js';
import { migrate } from '../../src/migrate/runner.js';
import { silentLogger } from '../../src/log/logger.js';
import { createCitusDatabase, dropCitusDatabase } from './citus.js';
import { withClient } from './pg-client.js';

/**
 * Which backend this test pass runs on (scripts/run-tests.mjs sets it):
 * PGlite, one PostgreSQL server, or a Citus cluster (a coordinator and two
 * workers: TEST_DATABASE_URL is the coordinator's). Citus is a server too.
 */
export const BACKEND: 'pglite' | 'postgres' | 'citus' =
  process.env.EMBCTL_TEST_BACKEND === 'postgres' || process.env.EMBCTL_TEST_BACKEND === 'citus'
    ? process.env.EMBCTL_TEST_BACKEND
    : 'pglite';
export const ON_SERVER = BACKEND !== 'pglite';
export const ON_CITUS = BACKEND === 'citus';

/** Reason to skip a test on the Citus pass: what cannot hold there, said by the test. */
export function notOnCitus(why: string): string | false {
  return ON_CITUS ? `not on Citus: ${why}` : false;
}

/** Reason to skip a server-only test on the embedded pass. */
export const SERVER_ONLY = ON_SERVER ? false : 'needs a PostgreSQL server: runs in the server pass (TEST_DATABASE_URL)';

export interface TestDb extends Db {
  /** For a server: the URL of this test's own database. For PGlite: undefined. */
  url: string | undefined;
  /** For PGlite: the data folder. */
  homeDir: string;
  /** Close and delete everything. Safe twice. */
  destroy(): Promise<void>;
}

export interface TestDbTarget {
  url: string | undefined;
  homeDir: string;
  destroy(): Promise<void>;
}

/**
 * A fresh, empty target: a new database on the server (from template1, which
 * has pgvector), or a new data folder for PGlite. Not opened.
 */
export async function freshTarget(): Promise<TestDbTarget> {
  const homeDir = mkdtempSync(join(tmpdir(), 'embctl-test-'));
  if (!ON_SERVER) {
    return { url: undefined, homeDir, destroy: async () => rmSync(homeDir, { recursive: true, force: true }) };
  }
  const admin = process.env.TEST_DATABASE_URL;
  if (!admin) throw new Error('EMBCTL_TEST_BACKEND=postgres needs TEST_DATABASE_URL');
  const scratch = await scratchDatabase(admin, 'embctl_t');
  return {
    url: scratch.url,
    homeDir,
    async destroy() {
      rmSync(homeDir, { recursive: true, force: true });
      await scratch.drop();
    },
  };
}

/**
 * A new database on the server (from template1, which has pgvector), named
 * `<prefix>_<pid>_<random>`, and how to drop it (safe twice). Tests and
 * benchmarks both use it.
 */
export async function scratchDatabase(
  adminUrl: string,
  prefix: string,
): Promise<{ url: string; drop: () => Promise<void> }> {
  if (!/^[a-z][a-z0-9_]{0,40}$/.test(prefix)) throw new Error(`bad database name prefix ${prefix}`);
  const name = `${prefix}_${process.pid}_${randomBytes(4).toString('hex')}`;
  const citus = await isCitusCluster(adminUrl);
  if (citus) await createCitusDatabase(adminUrl, name);
  else await withAdmin(adminUrl, (c) => c.query(`create database ${name}`));
  const u = new URL(adminUrl);
  u.pathname = `/${name}`;
  let dropped = false;
  return {
    url: u.toString(),
    async drop() {
      if (dropped) return;
      dropped = true;
      if (citus) await dropCitusDatabase(adminUrl, name);
      else await withAdmin(adminUrl, (c) => c.query(`drop database if exists ${name} with (force)`));
    },
  };
}

const citusClusters = new Map<string, Promise<boolean>>();

/** Is `adminUrl` a Citus coordinator with workers (then scratch databases are made on every node)? */
function isCitusCluster(adminUrl: string): Promise<boolean> {
  let known = citusClusters.get(adminUrl);
  if (!known) {
    known = withAdmin(adminUrl, async (c) => {
      const { rows } = await c.query<{ ok: boolean }>(
        `select exists (select 1 from pg_extension where extname = 'citus') as ok`,
      );
      return Boolean(rows[0]?.ok);
    });
    citusClusters.set(adminUrl, known);
  }
  return known;
}

/** A fresh database, opened (and migrated unless told otherwise). */
export async function freshDb(opts: { migrate?: boolean } = {}): Promise<TestDb> {
  const target = await freshTarget();
  const db = await openDatabase({
    databaseUrl: target.url,
    homeDir: target.homeDir,
    logger: silentLogger(),
    poolSize: 8,
  });
  if (opts.migrate !== false) await migrate(db, { logger: silentLogger() });
  let destroyed = false;
  return Object.assign(db, {
    url: target.url,
    homeDir: target.homeDir,
    async destroy() {
      if (destroyed) return;
      destroyed = true;
      await db.close();
      await target.destroy();
    },
  });
}

/** A plain client on the server's admin URL (or any URL) for the length of `fn`. */
export const withAdmin = withClient;

/** Open a database, run `fn` on it, close it (on PGlite the folder is free again for a CLI child process). */
export async function withOpen<T>(open: () => Promise<Db>, fn: (db: Db) => Promise<T>): Promise<T> {
  const db = await open();
  try {
    return await fn(db);
  } finally {
    await db.close();
  }
}

/** `withOpen` on a test target, quietly. */
export function withTargetDb<T>(target: TestDbTarget, fn: (db: Db) => Promise<T>): Promise<T> {
  return withOpen(() => openDatabase({ databaseUrl: target.url, homeDir: target.homeDir, logger: silentLogger() }), fn);
}
