import { sql, type Kysely } from 'kysely';
import type { DB } from '../../db/index.js';

/** Set a version's state to `retired` and its `retired_at` (in the caller's transaction). */
export async function markRetired(trx: Kysely<DB>, id: number): Promise<void> {
  await trx
    .updateTable('embedding_versions')
    .set({ state: 'retired', retired_at: sql`now()` as never, updated_at: sql`now()` as never })
    .where('id', '=', id)
    .execute();
}
