import type { Db } from '../db/index.js';
import type { Logger } from '../log/index.js';
import { derivationOf, fillDerived, partitionExists } from '../partitions/index.js';
import type { VersionRow } from '../versions/index.js';
import type { BackfillSummary } from './types.js';

/**
 * `sync` for a derived version: its new parent vectors become derived
 * vectors, inside the database (no encoder). Skipped, with a warning, when
 * the parent's partition is gone (the parent was retired).
 */
export async function syncDerived(
  db: Db,
  v: VersionRow,
  logger: Logger,
  signal?: AbortSignal,
): Promise<BackfillSummary> {
  const started = performance.now();
  const d = derivationOf(v)!;
  const summary = (chunks: number, complete: boolean): BackfillSummary => ({
    version: v.version_key,
    worker: `derive from ${d.parentKey}`,
    chunksWritten: chunks,
    embedded: 0,
    reused: 0,
    tokens: 0,
    costUsd: 0,
    requests: 0,
    rateLimited: 0,
    retries: 0,
    failedBatches: [],
    stoppedBy: complete ? 'complete' : 'signal',
    batchApiTexts: 0,
    complete,
    index: null,
    state: v.state,
    seconds: Math.round((performance.now() - started) / 10) / 100,
  });
  if (!(await partitionExists(db.kysely, d.parentId)) || !(await partitionExists(db.kysely, v.id))) {
    logger.warn(
      { version: v.version_key, parent: d.parentKey },
      `derived version ${v.version_key} cannot follow ${d.parentKey}: a partition is gone (retired); retire ${v.version_key} too`,
    );
    return summary(0, false);
  }
  const r = await fillDerived(db.kysely, v, { signal });
  return summary(r.written, r.complete);
}
