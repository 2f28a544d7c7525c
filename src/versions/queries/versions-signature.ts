import { sql, type Kysely } from 'kysely';
import type { DB } from '../../db/index.js';

/**
 * A string that changes whenever a version changes (an event, an update, a
 * new active version): what a watcher without LISTEN polls.
 */
export async function versionsSignature(db: Kysely<DB>): Promise<string> {
  const { rows } = await sql<{ sig: string }>`
      select concat_ws(':', (select max(id) from version_events),
                            (select max(updated_at) from embedding_versions),
                            (select version_key from embedding_versions where active)) as sig`.execute(db);
  return rows[0]?.sig ?? '';
}
