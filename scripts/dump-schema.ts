// Writes test/fixtures/schema.sql from a freshly migrated embedded database:
// `npm run schema:dump`. Review its diff with every migration.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { openDatabase } from '../src/db/open.js';
import { migrate } from '../src/migrate/runner.js';
import { silentLogger } from '../src/log/logger.js';
import { dumpSchema } from '../test/support/schema-dump.js';

const target = fileURLToPath(new URL('../test/fixtures/schema.sql', import.meta.url));
const home = mkdtempSync(join(tmpdir(), 'embctl-schema-'));
const db = await openDatabase({ homeDir: home, logger: silentLogger() });
try {
  await migrate(db, { logger: silentLogger() });
  writeFileSync(target, await dumpSchema(db.kysely));
  console.log(`wrote ${target}`);
} finally {
  await db.close();
  rmSync(home, { recursive: true, force: true });
}
