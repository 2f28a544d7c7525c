import type { Db } from '../db/index.js';
import { listVersions } from '../versions/index.js';
import type { OnProgress } from '../util/index.js';
import { runBackfill } from './run.js';
import { syncDerived } from './derived-sync.js';
import type { BackfillDeps, BackfillProgress, BackfillSummary } from './types.js';

export interface SyncOptions {
  /** Concurrent workers per version (default 2). */
  workers?: number;
  /** First abort: the running version stops cleanly and no further version starts. */
  signal?: AbortSignal;
  /** Abort: stop in-flight encoder calls and release their batches. */
  hardSignal?: AbortSignal;
  onProgress?: OnProgress<BackfillProgress>;
  /** Called after each version that finished without being stopped by `signal`. */
  onSynced?: (s: BackfillSummary) => void;
}

/**
 * Embed the chunks ingested since the last backfill for every live (not
 * retired) version, one version after the other (a derived version from
 * its parent's new vectors, no encoder), in sync mode (events only
 * when a version changes state). Returns one summary per version it ran; the
 * last one is the interrupted one when `signal` stopped the sync.
 */
export async function syncLiveVersions(db: Db, opts: SyncOptions, deps: BackfillDeps): Promise<BackfillSummary[]> {
  const versions = (await listVersions(db.kysely)).filter((v) => v.state !== 'retired');
  const results: BackfillSummary[] = [];
  for (const v of versions) {
    if (v.parent_version_id !== null) {
      // A derived version follows its parent (a lower id, so synced just before), inside the database.
      const s = await syncDerived(db, v, deps.logger, opts.signal);
      results.push(s);
      if (opts.signal?.aborted) break;
      opts.onSynced?.(s);
      continue;
    }
    const s = await runBackfill(
      db,
      v.version_key,
      {
        workers: opts.workers ?? 2,
        sync: true,
        signal: opts.signal,
        hardSignal: opts.hardSignal,
        onProgress: opts.onProgress,
      },
      deps,
    );
    results.push(s);
    if (opts.signal?.aborted) break;
    opts.onSynced?.(s);
  }
  return results;
}
