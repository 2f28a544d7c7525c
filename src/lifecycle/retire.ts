import { sql } from 'kysely';
import type { Db } from '../db/index.js';
import { RefusedError } from '../errors.js';
import { dropPartition, partitionExists, partitionTable } from '../partitions/index.js';
import { endShadowOf } from '../shadow/index.js';
import { recordEvent, requireVersion } from '../versions/index.js';
import { lockVersion, markRetired } from '../versions/index.js';
import type { LifecycleDeps } from './activate.js';
import { lockLifecycle, notifyVersionChange } from './notify.js';

export interface RetirePlan {
  version: string;
  /** Vectors that would be dropped with the partition. */
  vectors: number;
  alreadyRetired: boolean;
}

export interface RetireResult {
  version: string;
  /** False when it was already retired (nothing was written). */
  changed: boolean;
  vectorsDropped: number;
  batchesRemoved: number;
}

function refuseActive(key: string): never {
  throw new RefusedError(
    `cannot retire ${key}: it is the active version; activate another version first (embctl activate <key>, or embctl rollback)`,
  );
}

/** Refused while a live derived version re-ranks on this version's vectors (`versions derive --rerank`). */
async function refuseRerankChildren(db: Db['kysely'], id: number, key: string): Promise<void> {
  const children = await db
    .selectFrom('embedding_versions')
    .select('version_key')
    .where('parent_version_id', '=', id)
    .where('state', '<>', 'retired')
    .where(sql<boolean>`derivation->'rerank' <> 'null'::jsonb`)
    .orderBy('id')
    .execute();
  if (children.length === 0) return;
  const keys = children.map((c) => c.version_key);
  throw new RefusedError(
    `cannot retire ${key}: ${keys.join(', ')} re-rank${keys.length === 1 ? 's' : ''} on its vectors (--rerank); retire ${keys.length === 1 ? 'that version' : 'those versions'} first`,
  );
}

/** What `retire` would do (for a confirmation prompt); refused for the active version. */
export async function planRetire(db: Db, key: string): Promise<RetirePlan> {
  const v = await requireVersion(db.kysely, key);
  if (v.active) refuseActive(key);
  if (v.state !== 'retired') await refuseRerankChildren(db.kysely, v.id, key);
  if (v.state === 'retired' || !(await partitionExists(db.kysely, v.id)))
    return { version: key, vectors: 0, alreadyRetired: v.state === 'retired' };
  const { rows } = await sql<{ n: number }>`select count(*) as n from ${sql.raw(partitionTable(v.id))}`.execute(
    db.kysely,
  );
  return { version: key, vectors: Number(rows[0]?.n ?? 0), alreadyRetired: false };
}

/**
 * `embctl retire <key>`: for a version that is not active, in one
 * transaction under the lifecycle lock: drop its partition (vectors and ANN
 * index; waits for searches in flight on it), remove its backfill batches,
 * stop its shadowing, set state `retired` and `retired_at`, and record a
 * `retired` event. The version row and its audit trail stay. Confirmation
 * is the caller's job (see `planRetire`).
 */
export async function retire(db: Db, key: string, opts: LifecycleDeps & { reason?: string }): Promise<RetireResult> {
  await requireVersion(db.kysely, key);
  const result = await db.kysely.transaction().execute(async (trx) => {
    await lockLifecycle(trx);
    const v = await lockVersion(trx, key);
    if (v.active) refuseActive(key);
    if (v.state === 'retired')
      return { version: key, changed: false, vectorsDropped: 0, batchesRemoved: 0 } satisfies RetireResult;
    await refuseRerankChildren(trx, v.id, key);
    let vectors = 0;
    if (await partitionExists(trx, v.id)) {
      const { rows } = await sql<{ n: number }>`select count(*) as n from ${sql.raw(partitionTable(v.id))}`.execute(
        trx,
      );
      vectors = Number(rows[0]?.n ?? 0);
      await dropPartition(trx, v.id);
    }
    const batches = await trx
      .deleteFrom('backfill_batches')
      .where('embedding_version_id', '=', v.id)
      .executeTakeFirst();
    await endShadowOf(trx, v, opts.actor, 'retired');
    await markRetired(trx, v.id);
    const batchesRemoved = Number(batches.numDeletedRows ?? 0);
    await recordEvent(trx, {
      versionId: v.id,
      versionKey: key,
      event: 'retired',
      actor: opts.actor,
      reason: opts.reason ?? null,
      details: { vectorsDropped: vectors, batchesRemoved, previousState: v.state },
    });
    await notifyVersionChange(trx, { event: 'retired', version: key });
    return { version: key, changed: true, vectorsDropped: vectors, batchesRemoved } satisfies RetireResult;
  });
  if (result.changed)
    opts.logger?.info({ version: key, vectors: result.vectorsDropped, actor: opts.actor }, 'version retired');
  return result;
}
