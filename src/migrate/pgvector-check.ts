import { sql, type Kysely } from 'kysely';
import type { DB } from '../db/index.js';
import { RefusedError } from '../errors.js';

/** pgvector 0.8 brings iterative index scans; halfvec needs 0.7. */
export const MIN_PGVECTOR = '0.8.0';

/** Refuse, with the fix, a server on which pgvector cannot be created. */
export async function checkPgvectorAvailable(conn: Kysely<DB>, where: string, extension = 'vector'): Promise<void> {
  const { rows } = await sql<{ default_version: string | null; installed_version: string | null }>`
    select default_version, installed_version from pg_available_extensions where name = ${extension}`.execute(conn);
  const row = rows[0];
  if (!row) {
    throw new RefusedError(
      `${extension === 'vector' ? 'pgvector' : extension} is not installed on the server at ${where}: install it (Debian/Ubuntu: apt install postgresql-<major>-pgvector; or build github.com/pgvector/pgvector; or use the pgvector/pgvector Docker image), then run embctl migrate again`,
    );
  }
  const version = row.installed_version ?? row.default_version ?? '0';
  if (compareVersions(version, MIN_PGVECTOR) < 0) {
    throw new RefusedError(
      `pgvector ${version} on ${where} is too old: embctl needs ${MIN_PGVECTOR} or later (install a newer pgvector, then ALTER EXTENSION vector UPDATE)`,
    );
  }
}

export function compareVersions(a: string, b: string): number {
  const pa = a.split('.').map((x) => parseInt(x, 10) || 0);
  const pb = b.split('.').map((x) => parseInt(x, 10) || 0);
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
    const d = (pa[i] ?? 0) - (pb[i] ?? 0);
    if (d !== 0) return d;
  }
  return 0;
}
