/**
 * The canary of a derived version (issue 16): the parent's encoder embeds
 * the canary texts, and the derived transform turns each vector into what
 * the derived version stores, through the same SQL (`derivedQueryVector`,
 * src/partitions/transform.ts) that transforms the queries. At derive time
 * the parent's stored canary is transformed (no encoder call); verify and
 * `--record` transform the vectors they embed now, so stored and fresh go
 * through one path.
 */
import type { Kysely } from 'kysely';
import type { DB } from '../../db/index.js';
import type { DerivedSpec } from '../../partitions/index.js';
import type { VersionRow } from '../store.js';
import { canaryVectorsFor } from './derived-vectors.js';
import { storeCanary, type EmbeddedCanary } from './record.js';
import { readCanary } from './store.js';

/**
 * At derive time, in the registering transaction: the parent's stored canary
 * (same texts, set and reported model), each vector transformed. Returns
 * false when the parent has none (then `versions verify <parent> --record`,
 * and `versions verify <derived> --record`).
 */
export async function deriveCanary(
  trx: Kysely<DB>,
  parent: Pick<VersionRow, 'id'>,
  derived: Pick<VersionRow, 'id' | 'version_key'> & DerivedSpec,
  actor: string,
): Promise<boolean> {
  const c = await readCanary(trx, parent.id);
  if (!c) return false;
  const embedded: EmbeddedCanary = {
    set: {
      name: c.setName,
      sha256: c.setSha256,
      corpusSample: c.corpusSample,
      texts: c.texts.map((t) => ({ source: t.source, content: t.content, sha256: t.sha256 })),
    },
    vectors: await canaryVectorsFor(
      trx,
      derived,
      c.texts.map((t) => t.vector),
    ),
    reportedModel: c.reportedModel,
  };
  await storeCanary(trx, derived, embedded, { actor, reason: 'derived from the parent’s canary', replaced: false });
  return true;
}
