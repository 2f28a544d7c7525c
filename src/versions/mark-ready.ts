import type { Kysely } from 'kysely';
import type { DB } from '../db/index.js';
import { transitionState } from './queries/index.js';
import { recordEvent, type VersionRow } from './store.js';

/**
 * A version whose partition is complete (and indexed, when it wants an
 * index) becomes `ready`, with its `index_built` (when this run built it)
 * and `backfill_completed` events, in one transaction. A version that is no
 * longer `backfilling` (another process got there first) is left alone.
 */
export async function markReady(
  db: Kysely<DB>,
  v: VersionRow,
  actor: string,
  index: { built: boolean; ms: number } | null,
  details: Record<string, number>,
): Promise<void> {
  await db.transaction().execute(async (trx) => {
    if (!(await transitionState(trx, v.id, 'backfilling', 'ready'))) return;
    if (index?.built) {
      await recordEvent(trx, {
        versionId: v.id,
        versionKey: v.version_key,
        event: 'index_built',
        actor,
        details: { kind: v.index_kind, storage: v.index_storage, ms: index.ms },
      });
    }
    await recordEvent(trx, { versionId: v.id, versionKey: v.version_key, event: 'backfill_completed', actor, details });
  });
}
