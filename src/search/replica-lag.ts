import { replayLag, type Db } from '../db/index.js';
import { NotFoundError, RefusedError, ReplicaBehindError } from '../errors.js';
import { VERSION_KEY } from '../versions/index.js';

/**
 * A search that failed because a hot standby has not replayed yet what the
 * primary wrote says so, as a retryable error, instead of "no such version"
 * (its row is not here yet), "not backfilled" (its vectors are not) or a
 * missing partition. Asked only after a search failed with one of those, on
 * a server: the lag query is never on the hot path. When the standby has
 * nothing left to replay (or is no standby), the error stays what it was: a
 * name that does not exist is still a 404, not a retry loop.
 */
export async function explainReplicaLag(db: Db, e: unknown, named: string | undefined): Promise<unknown> {
  if (db.backend !== 'postgres') return e;
  const what = missingPart(e);
  if (!what) return e;
  if (named !== undefined && !VERSION_KEY.test(named)) return e; // no primary can have it either
  let lag;
  try {
    lag = await replayLag(db.kysely);
  } catch {
    return e; // the database went away meanwhile: the first error says more
  }
  if (!lag.standby || !lag.behind) return e;
  const version = named ? `version ${named}` : 'the version it serves';
  const behind = lag.bytes > 0 ? ` (${lag.bytes} bytes of WAL not applied yet)` : ' (replay is paused)';
  return new ReplicaBehindError(
    `this read replica has not replayed ${what} of ${version} yet: the hot standby is behind its primary${behind}; retry in a moment, or search the primary`,
    { cause: e },
  );
}

/** What a lagging standby lacks, judged by the error a search got; undefined when the error is about something else. */
function missingPart(e: unknown): string | undefined {
  if (e instanceof NotFoundError) return 'the registration';
  if (e instanceof RefusedError && e.code === 'incomplete') return 'the vectors';
  if ((e as { code?: unknown } | null)?.code === '42P01') return 'the partition';
  return undefined;
}
