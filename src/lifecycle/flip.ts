import { sql, type Kysely } from 'kysely';
import type { DB } from '../db/schema.js';
import { endShadowOf } from '../shadow/config.js';
import type { VersionRow } from '../versions/store.js';

/**
 * Move the active flag to `target` inside the caller's transaction: clear
 * the old flag, then set the new one (two statements, so the partial unique
 * index `embedding_versions_one_active` never sees two active rows). Other
 * sessions see the old state until commit and the new one after: never
 * none, never two.
 */
export async function moveActiveFlag(trx: Kysely<DB>, target: VersionRow, actor: string): Promise<void> {
  await trx.updateTable('embedding_versions').set({ active: false, updated_at: sql`now()` as never })
    .where('active', '=', true).where('id', '<>', target.id).execute();
  await trx.updateTable('embedding_versions').set({ active: true, updated_at: sql`now()` as never })
    .where('id', '=', target.id).execute();
  // A shadowed candidate that now serves every query has nothing left to compare with.
  await endShadowOf(trx, target, actor, 'activated: it serves every query now');
}

/** The versions row by key, and the active one, locked for the rest of the transaction. */
export async function lockRows(trx: Kysely<DB>, key: string): Promise<{ target: VersionRow | undefined; active: VersionRow | undefined }> {
  const rows = await trx.selectFrom('embedding_versions').selectAll()
    .where((eb) => eb.or([eb('version_key', '=', key), eb('active', '=', true)]))
    .orderBy('id').forUpdate().execute();
  return { target: rows.find((r) => r.version_key === key), active: rows.find((r) => r.active) };
}
