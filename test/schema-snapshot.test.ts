import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { openDatabase } from '../src/db/open.js';
import { migrate } from '../src/migrate/runner.js';
import { silentLogger } from '../src/log/logger.js';
import { dumpSchema } from './support/schema-dump.js';

// The committed snapshot (test/fixtures/schema.sql) is what the migrations
// build, so that every schema change is a reviewable diff. It is always taken
// from a fresh embedded database (see test/support/schema-dump.ts), on both passes.
test('test/fixtures/schema.sql is what the migrations build', async () => {
  const home = mkdtempSync(join(tmpdir(), 'embctl-schema-test-'));
  const db = await openDatabase({ homeDir: home, logger: silentLogger() });
  try {
    await migrate(db, { logger: silentLogger() });
    const now = await dumpSchema(db.kysely);
    const committed = readFileSync(fileURLToPath(new URL('./fixtures/schema.sql', import.meta.url)), 'utf8');
    assert.equal(now, committed, 'the schema snapshot is stale: run npm run schema:dump and review the diff');
  } finally {
    await db.close();
    rmSync(home, { recursive: true, force: true });
  }
});
