import type { Db } from '../db/index.js';
import { RefusedError } from '../errors.js';
import { readMigrations } from '../migrate/index.js';
import { schemaVersion } from '../migrate/index.js';

/** Commands that need the schema refuse, with the fix, a database not migrated. */
export async function requireSchema(db: Db): Promise<void> {
  const have = await schemaVersion(db);
  const want = readMigrations().length;
  if (have < want) {
    throw new RefusedError(
      have === 0
        ? `the database at ${db.location} has no embctl schema yet: run embctl migrate`
        : `the database schema is at version ${have}, this embctl needs ${want}: run embctl migrate`,
    );
  }
}
