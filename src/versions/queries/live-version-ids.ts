import type { Kysely } from 'kysely';
import type { DB } from '../../db/index.js';

/** The ids of the versions that are not retired, those with this encoder identity only when one is given. */
export async function liveVersionIds(db: Kysely<DB>, opts: { encoderIdentity?: string } = {}): Promise<number[]> {
  let q = db.selectFrom('embedding_versions').select('id').where('state', '<>', 'retired');
  if (opts.encoderIdentity !== undefined) q = q.where('encoder_identity', '=', opts.encoderIdentity);
  return (await q.orderBy('id').execute()).map((r) => r.id);
}
