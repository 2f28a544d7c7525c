import type { Kysely } from 'kysely';
import type { DB } from '../db/index.js';
import { endShadowOf } from '../shadow/index.js';
import type { VersionRow } from '../versions/index.js';
import { lockVersionAndActive, setActiveFlag } from '../versions/index.js';

/**
 * Move the active flag to `target` inside the caller's transaction: clear
 * the old flag, then set the new one (two statements, so the partial unique
 * index `embedding_versions_one_active` never sees two active rows). Other
 * sessions see the old state until commit and the new one after: never
 * none, never two.
 */
export async function moveActiveFlag(trx: Kysely<DB>, target: VersionRow, actor: string): Promise<void> {
  await setActiveFlag(trx, target.id);
  // A shadowed candidate that now serves every query has nothing left to compare with.
  await endShadowOf(trx, target, actor, 'activated: it serves every query now');
}

/** The versions row by key, and the active one, locked for the rest of the transaction. */
export async function lockRows(
  trx: Kysely<DB>,
  key: string,
): Promise<{ target: VersionRow | undefined; active: VersionRow | undefined }> {
  return lockVersionAndActive(trx, key);
}
