import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync, copyFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'kysely';
import { freshDb, freshTarget, ON_SERVER } from './support/db.js';
import { openDatabase } from '../src/db/open.js';
import { runCli, targetEnv } from './support/cli.js';
import { migrate, schemaVersion } from '../src/migrate/runner.js';
import { MIGRATIONS_DIR, readMigrations } from '../src/migrate/files.js';
import { checkPgvectorAvailable } from '../src/migrate/pgvector-check.js';
import { silentLogger } from '../src/log/logger.js';

const logger = silentLogger();

describe('migrations', () => {
  test('dry run lists pending migrations and writes nothing', async () => {
    const db = await freshDb({ migrate: false });
    try {
      const res = await migrate(db, { logger, dryRun: true });
      assert.equal(res.dryRun, true);
      assert.deepEqual(
        res.pending.map((p) => p.id),
        readMigrations().map((m) => m.id),
      );
      const t = await sql<{ t: string | null }>`select to_regclass('embctl_migrations')::text as t`.execute(db.kysely);
      assert.equal(t.rows[0]?.t, null);
      assert.equal(await schemaVersion(db), 0);
    } finally {
      await db.destroy();
    }
  });

  test('applying twice applies each migration once', async () => {
    const db = await freshDb({ migrate: false });
    try {
      const first = await migrate(db, { logger });
      assert.equal(first.applied.length, readMigrations().length);
      const second = await migrate(db, { logger });
      assert.equal(second.applied.length, 0);
      assert.equal(second.schemaVersion, first.schemaVersion);
      const rows = await db.kysely.selectFrom('embctl_migrations').select(['id']).execute();
      assert.equal(rows.length, readMigrations().length);
    } finally {
      await db.destroy();
    }
  });

  test('a migration applied but missing from the folder is an error', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'embctl-mig-'));
    const db = await freshDb({ migrate: false });
    try {
      for (const m of readMigrations())
        copyFileSync(
          join(MIGRATIONS_DIR, `${String(m.id).padStart(4, '0')}_${m.name}.sql`),
          join(dir, `${String(m.id).padStart(4, '0')}_${m.name}.sql`),
        );
      const extra = String(readMigrations().length + 1).padStart(4, '0');
      writeFileSync(join(dir, `${extra}_extra_table.sql`), 'create table extra_for_test (id int);');
      await migrate(db, { logger, dir });
      rmSync(join(dir, `${extra}_extra_table.sql`));
      await assert.rejects(
        migrate(db, { logger, dir }),
        /was applied to this database but is missing from migrations\//,
      );
      // A changed file is an error too.
      writeFileSync(join(dir, `${extra}_extra_table.sql`), 'create table extra_for_test (id bigint);');
      await assert.rejects(migrate(db, { logger, dir }), /changed after it was applied/);
    } finally {
      await db.destroy();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('a failing migration leaves nothing behind', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'embctl-mig-'));
    const db = await freshDb({ migrate: true });
    try {
      for (const m of readMigrations())
        copyFileSync(
          join(MIGRATIONS_DIR, `${String(m.id).padStart(4, '0')}_${m.name}.sql`),
          join(dir, `${String(m.id).padStart(4, '0')}_${m.name}.sql`),
        );
      const extra = String(readMigrations().length + 1).padStart(4, '0');
      writeFileSync(join(dir, `${extra}_broken.sql`), 'create table half_done (id int); select no_such_function();');
      await assert.rejects(migrate(db, { logger, dir }), /no_such_function/);
      const t = await sql<{ t: string | null }>`select to_regclass('half_done')::text as t`.execute(db.kysely);
      assert.equal(t.rows[0]?.t, null);
      assert.equal(await schemaVersion(db), readMigrations().length);
    } finally {
      await db.destroy();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('a missing extension is refused with the fix', async () => {
    const db = await freshDb({ migrate: false });
    try {
      await assert.rejects(
        db.kysely.connection().execute((c) => checkPgvectorAvailable(c, 'test-server', 'vector_not_here')),
        /vector_not_here is not installed on the server at test-server: install it/,
      );
    } finally {
      await db.destroy();
    }
  });

  test('three processes migrating at once apply each migration once', async () => {
    const target = await freshTarget();
    try {
      const env = targetEnv(target);
      const runs = await Promise.all([1, 2, 3].map(() => runCli(['migrate', '--json'], { env })));
      const applied: number[] = [];
      for (const r of runs) {
        if (r.code === 0) {
          applied.push(JSON.parse(r.stdout).applied.length as number);
          continue;
        }
        // The embedded database serves one process at a time: the others are refused with the fix, and write nothing.
        assert.equal(ON_SERVER, false, `on a server every migrate succeeds: ${r.stderr}`);
        assert.equal(r.code, 1, r.stderr);
        assert.match(
          r.stderr,
          /^embctl: data folder .* is in use by embctl process \d+ on \S+: the embedded database serves one process at a time/m,
        );
        assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
      }
      assert.ok(applied.length >= 1, 'at least one process migrated');
      assert.equal(
        applied.reduce((a, b) => a + b, 0),
        readMigrations().length,
        `applied per process: ${applied}`,
      );
      const status = await runCli(['status', '--json'], { env });
      assert.equal(status.code, 0, status.stderr);
      assert.equal(JSON.parse(status.stdout).schema.version, readMigrations().length);
      const db = await openDatabase({ databaseUrl: target.url, homeDir: target.homeDir, logger });
      try {
        const ids = (await db.kysely.selectFrom('embctl_migrations').select('id').execute()).map((r) => r.id);
        assert.deepEqual(
          ids.sort((a, b) => a - b),
          readMigrations().map((m) => m.id),
        );
      } finally {
        await db.close();
      }
    } finally {
      await target.destroy();
    }
  });
});
