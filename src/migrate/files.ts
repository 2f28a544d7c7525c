import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { InvariantError } from '../errors.js';

export interface MigrationFile {
  id: number;
  name: string;
  sql: string;
  checksum: string;
}

/** The `migrations/` folder shipped with the package. */
export const MIGRATIONS_DIR = fileURLToPath(new URL('../../migrations/', import.meta.url));

/** Read `NNNN_name.sql` files in order; gaps and duplicates are errors. */
export function readMigrations(dir: string = MIGRATIONS_DIR): MigrationFile[] {
  const out: MigrationFile[] = [];
  for (const file of readdirSync(dir).sort()) {
    if (!file.endsWith('.sql')) continue;
    const m = /^(\d{4})_([a-z0-9_]+)\.sql$/.exec(file);
    if (!m) throw new InvariantError(`migration file name ${file} is not NNNN_name.sql`);
    const sql = readFileSync(join(dir, file), 'utf8');
    out.push({
      id: Number(m[1]),
      name: m[2]!,
      sql,
      checksum: createHash('sha256').update(sql).digest('hex'),
    });
  }
  out.forEach((f, i) => {
    if (f.id !== i + 1)
      throw new InvariantError(
        `migrations must be numbered 0001, 0002, ... without gaps; found ${f.id} at position ${i + 1}`,
      );
  });
  return out;
}
