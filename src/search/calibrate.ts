import { sql } from 'kysely';
import { sessionSettingsQuery, type Db } from '../db/index.js';
import { RefusedError } from '../errors.js';
import type { Logger } from '../log/index.js';
import { notifyVersionChange } from '../lifecycle/index.js';
import {
  derivationOf,
  indexOperator,
  partitionTable,
  queryCast,
  vectorColumn,
  type PartitionSpec,
} from '../partitions/index.js';
import { requireVersion } from '../versions/index.js';
import { setCalibration } from '../versions/index.js';
import { quantileCalibration, type QuantileCalibration } from './calibration.js';
import { DEFAULT_MAX_SCAN_TUPLES } from './knobs.js';
import { scoreFromDistance } from './score.js';

export interface CalibrateOptions {
  /** Chunks used as queries (default 200), chosen deterministically. */
  sample?: number;
  /** Neighbours per query (default 10). */
  k?: number;
  /** Compute and return, do not store. */
  dryRun?: boolean;
  logger?: Logger;
}

/**
 * Learn a version's score calibration from its own score distribution:
 * a deterministic sample of live chunks is used as queries (their stored
 * vectors, so no encoder call), their top-k neighbours' raw scores (the
 * chunk itself excluded) are collected, and raw scores are mapped to their
 * percentile in that distribution. Stored in `embedding_versions.calibration`.
 */
export async function calibrateVersion(db: Db, key: string, opts: CalibrateOptions = {}): Promise<QuantileCalibration> {
  const v = await requireVersion(db.kysely, key);
  if (v.state === 'retired') throw new RefusedError(`version ${key} is retired: it has no vectors to calibrate from`);
  const sample = opts.sample ?? 200;
  const k = opts.k ?? 10;
  // A derived version's vectors are in its own column; one that re-ranks
  // scores by its parent's distances, so it is calibrated on the parent's vectors.
  const d = derivationOf(v);
  const source: Pick<PartitionSpec, 'id' | 'dimensions' | 'index_storage' | 'distance_metric' | 'derivation'> =
    d?.rerank
      ? { id: d.parentId, dimensions: d.parentDimensions, index_storage: 'vector', distance_metric: d.parentMetric }
      : v;
  const table = sql.raw(partitionTable(source.id));
  const cast = queryCast(source);
  const column = vectorColumn(source);
  const op = sql.raw(indexOperator(source));
  const e2 = sql.raw(`(e2.${column}::${cast})`);
  const rows = await db.kysely.transaction().execute(async (trx) => {
    // All the ANN settings, locally: the pooled connection may hold a search's session values.
    // (Inside a transaction, sessionSettingsQuery sets them locally: on Citus, on the shards too.)
    await trx.executeQuery(
      sessionSettingsQuery({
        'hnsw.ef_search': '100',
        'hnsw.iterative_scan': 'relaxed_order',
        'hnsw.max_scan_tuples': String(DEFAULT_MAX_SCAN_TUPLES),
        'ivfflat.probes': '10',
        'ivfflat.iterative_scan': 'relaxed_order',
      }),
    );
    const queries = await sql<{ chunk_id: number; v: string }>`
      select e.chunk_id, ${sql.raw(`e.${column}`)}::text as v from ${table} e join document_chunks c on c.id = e.chunk_id
      where c.retired_at is null order by md5(e.chunk_id::text) limit ${sample}`.execute(trx);
    // One nearest-neighbour query per sampled chunk (not one LATERAL join:
    // Citus cannot push a lateral subquery on a distributed table down).
    const out: { distance: number }[] = [];
    for (const s of queries.rows) {
      const q = sql`(${s.v}::${sql.raw(cast)})`;
      const n = await sql<{ distance: number }>`
        select ${e2} ${op} ${q} as distance from ${table} e2
        where e2.chunk_id <> ${s.chunk_id} order by ${e2} ${op} ${q} limit ${k}`.execute(trx);
      out.push(...n.rows);
    }
    return out;
  });
  if (rows.length < 2)
    throw new RefusedError(
      `version ${key} has too few vectors to calibrate (${rows.length} neighbour scores): backfill it first (embctl backfill ${key})`,
    );
  const scores = rows.map((r) => scoreFromDistance(v.distance_metric, Number(r.distance)));
  const cal = quantileCalibration(scores, {
    metric: v.distance_metric,
    sample: Math.min(sample, rows.length),
    k,
    computedAt: new Date().toISOString(),
  });
  if (!opts.dryRun) {
    await db.kysely.transaction().execute(async (trx) => {
      await setCalibration(trx, v.id, cal);
      await notifyVersionChange(trx, { event: 'calibrated', version: key });
    });
    opts.logger?.info({ version: key, scores: scores.length }, 'version calibrated');
  }
  return cal;
}
