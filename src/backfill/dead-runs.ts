import { hostname } from 'node:os';
import { sql, type Kysely } from 'kysely';
import type { DB } from '../db/index.js';
import { isProcessAlive } from '../util/index.js';
import { parseWorkerId, pidReused } from '../util/index.js';

/**
 * A running backfill flushes its row every second. One whose heartbeat is
 * older than this is dead wherever it ran (a process on another host
 * cannot be asked).
 */
export const RUN_HEARTBEAT_EXPIRY_SECONDS = 300;

/** The schema version that brought the columns this needs (migration 0003). */
export const DEAD_RUNS_SCHEMA = 3;

export interface DeadRunOptions {
  /** This host's name (default os.hostname()). */
  host?: string;
  isAlive?: (pid: number) => boolean;
  expirySeconds?: number;
}

/**
 * Mark `failed` every `running` backfill run whose process is gone: on this
 * host, its pid is not alive or now belongs to a process that started at
 * another time; anywhere, its heartbeat has expired. Its
 * totals become the larger of what it last flushed and what it committed
 * (the batches it completed, costed at its price), so money it spent on
 * committed work is never missing from a report. Returns the runs marked.
 * Idempotent, and safe against a live run (it only touches `running` rows
 * it has judged dead, and a live run never goes back to `running`).
 */
export async function markDeadRuns(db: Kysely<DB>, opts: DeadRunOptions = {}): Promise<number> {
  const host = opts.host ?? hostname();
  const isAlive = opts.isAlive ?? isProcessAlive;
  const expiry = opts.expirySeconds ?? RUN_HEARTBEAT_EXPIRY_SECONDS;
  const { rows } = await sql<{ id: number; worker: string; expired: boolean }>`
    select id, worker, heartbeat_at < now() - ${expiry} * interval '1 second' as expired
    from backfill_runs where status = 'running'`.execute(db);
  let marked = 0;
  for (const r of rows) {
    const why = deathOf(r.worker, r.expired, host, isAlive, expiry);
    if (!why) continue;
    const u = await sql`
      update backfill_runs r
      set status = 'failed', finished_at = r.heartbeat_at,
          error = ${`${why}; its totals are what it committed`},
          embedded = greatest(r.embedded, c.embedded),
          reused = greatest(r.reused, c.reused),
          tokens = greatest(r.tokens, c.tokens),
          cost_usd = greatest(r.cost_usd, coalesce(c.tokens * r.price_per_mtok / 1000000.0, 0))
      from (select coalesce(sum(embedded), 0) as embedded, coalesce(sum(reused), 0) as reused, coalesce(sum(tokens), 0) as tokens
            from backfill_batches where run_id = ${r.id}) as c
      where r.id = ${r.id} and r.status = 'running'`.execute(db);
    marked += Number(u.numAffectedRows ?? 0);
  }
  return marked;
}

/** Why the run of `worker` (`host:pid:nonce`) is dead, or undefined if it may be alive. */
function deathOf(
  worker: string,
  expired: boolean,
  host: string,
  isAlive: (pid: number) => boolean,
  expiry: number,
): string | undefined {
  const { host: h, pid, tag } = parseWorkerId(worker);
  if (h === host && Number.isInteger(pid) && pid > 0 && pid !== process.pid && (!isAlive(pid) || pidReused(pid, tag))) {
    return `its process ${pid} on ${host} is gone (killed, crashed, or stopped by a lost database connection)`;
  }
  if (expired) return `no heartbeat for over ${expiry} s (its process on ${h} stopped)`;
  return undefined;
}

/** markDeadRuns where the database may be read-only (a standby): there, nothing is marked. */
export async function markDeadRunsIfWritable(db: Kysely<DB>, opts: DeadRunOptions = {}): Promise<number> {
  try {
    return await markDeadRuns(db, opts);
  } catch (e) {
    if ((e as { code?: string }).code === '25006') return 0; // read-only transaction: a hot standby
    throw e;
  }
}
