/**
 * The report's reads, one small query each. Values come in as parameters
 * only. Shadow agreement is read through shadow/summary-query.ts, which
 * aggregates in the database.
 */
import { sql, type Kysely } from 'kysely';
import type { DB } from '../db/index.js';
import { latestCalibration } from '../judgments/index.js';
import type { JudgeCalibration } from './types.js';
import { listVersions, type VersionRow } from '../versions/index.js';
import { liveVersionIds, versionKeysById } from '../versions/index.js';

type K = Kysely<DB>;

export async function versionRows(db: K): Promise<VersionRow[]> {
  return listVersions(db);
}

/** The latest evaluation run of a version that is not retired. */
export async function latestEvaluation(db: K): Promise<{ versionId: number; at: Date } | undefined> {
  const live = await liveVersionIds(db);
  if (live.length === 0) return undefined;
  const r = await db
    .selectFrom('evaluation_runs as r')
    .select(['r.embedding_version_id as versionId', 'r.created_at as at'])
    .where('r.embedding_version_id', 'in', live)
    .orderBy('r.id', 'desc')
    .limit(1)
    .executeTakeFirst();
  return r;
}

/** The latest activation of a version that is not retired. */
export async function latestActivation(db: K): Promise<{ versionId: number; at: Date } | undefined> {
  const live = await liveVersionIds(db);
  if (live.length === 0) return undefined;
  const r = await db
    .selectFrom('version_events as e')
    .select(['e.embedding_version_id as versionId', 'e.created_at as at'])
    .where('e.event', '=', 'activated')
    .where('e.embedding_version_id', 'in', live)
    .orderBy('e.id', 'desc')
    .limit(1)
    .executeTakeFirst();
  return r ? { versionId: r.versionId!, at: r.at } : undefined;
}

/** The baseline the candidate was last compared to. */
export async function lastComparedBaseline(db: K, candidateId: number): Promise<number | undefined> {
  const r = await db
    .selectFrom('evaluation_runs')
    .select('baseline_version_id')
    .where('embedding_version_id', '=', candidateId)
    .where('baseline_version_id', 'is not', null)
    .orderBy('id', 'desc')
    .limit(1)
    .executeTakeFirst();
  return r?.baseline_version_id ?? undefined;
}

/** Activations and rollbacks, oldest first: who was active before whom. */
export async function activationEvents(db: K): Promise<{ versionId: number | null; event: string }[]> {
  return db
    .selectFrom('version_events')
    .select(['embedding_version_id as versionId', 'event'])
    .where('event', 'in', ['activated', 'rolled_back'])
    .orderBy('id')
    .execute();
}

/** The newest `limit` events of these versions, oldest first. */
export async function eventsOf(db: K, versionIds: number[], limit: number) {
  if (versionIds.length === 0) return [];
  const rows = await db
    .selectFrom('version_events')
    .selectAll()
    .where('embedding_version_id', 'in', versionIds)
    .orderBy('id', 'desc')
    .limit(limit)
    .execute();
  return rows.reverse();
}

export async function evaluationRunsOf(db: K, versionId: number, limit: number) {
  const rows = await db
    .selectFrom('evaluation_runs as r')
    .select(['r.id', 'r.baseline_version_id', 'r.judged_set_name', 'r.gated', 'r.passed', 'r.created_at', 'r.actor'])
    .where('r.embedding_version_id', '=', versionId)
    .orderBy('r.id', 'desc')
    .limit(limit)
    .execute();
  const baselineIds = [
    ...new Set(rows.flatMap((r) => (r.baseline_version_id === null ? [] : [r.baseline_version_id]))),
  ];
  const keys = await versionKeysById(db, { ids: baselineIds });
  return rows.map((r) => ({
    ...r,
    baseline_key: r.baseline_version_id === null ? null : (keys.get(r.baseline_version_id) ?? null),
  }));
}

export async function evaluationRun(db: K, runId: number) {
  return db.selectFrom('evaluation_runs').selectAll().where('id', '=', runId).executeTakeFirst();
}

/** A version's own latest run on a judged set (the baseline's scores when the candidate's run lacks them). */
export async function ownRunOn(db: K, versionId: number, judgedSetName: string) {
  return db
    .selectFrom('evaluation_runs')
    .selectAll()
    .where('embedding_version_id', '=', versionId)
    .where('judged_set_name', '=', judgedSetName)
    .orderBy('id', 'desc')
    .limit(1)
    .executeTakeFirst();
}

/** The latest run on a judged set that compared another version against this one (its baseline scores). */
export async function latestRunAsBaselineOn(db: K, versionId: number, judgedSetName: string) {
  return db
    .selectFrom('evaluation_runs')
    .selectAll()
    .where('baseline_version_id', '=', versionId)
    .where('judged_set_name', '=', judgedSetName)
    .orderBy('id', 'desc')
    .limit(1)
    .executeTakeFirst();
}

/** The latest judge_calibrations row of each judge id that has one (by exact id, thresholds included). */
export async function latestCalibrations(db: K, judges: readonly string[]): Promise<Map<string, JudgeCalibration>> {
  const out = new Map<string, JudgeCalibration>();
  for (const j of judges) {
    const r = await latestCalibration(db, j);
    if (r)
      out.set(j, {
        kappa: Number(r.kappa),
        accuracy: Number(r.accuracy),
        kendallTau: r.kendall_tau === null ? null : Number(r.kendall_tau),
        pairs: Number(r.pairs),
        judgedSet: r.judged_set_name,
        createdAt: new Date(r.created_at).toISOString(),
      });
  }
  return out;
}

export interface BackfillRow {
  version_id: number;
  version_key: string;
  runs: number;
  completed: number;
  failed: number;
  running: boolean;
  last_status: string;
  embedded: number;
  reused: number;
  tokens: number;
  cost_usd: number;
  encoder_requests: number;
  rate_limited: number;
  started_at: Date | null;
  finished_at: Date | null;
  wall_seconds: number | null;
  worker_seconds: number;
}

export async function backfillByVersion(db: K, versionIds: number[]): Promise<BackfillRow[]> {
  if (versionIds.length === 0) return [];
  const r = await sql<Omit<BackfillRow, 'version_key'>>`
    select r.embedding_version_id as version_id,
           count(*)::int as runs,
           (count(*) filter (where r.status = 'completed'))::int as completed,
           (count(*) filter (where r.status = 'failed'))::int as failed,
           bool_or(r.status = 'running') as running,
           (array_agg(r.status order by r.id desc))[1] as last_status,
           sum(r.embedded)::float8 as embedded,
           sum(r.reused)::float8 as reused,
           sum(r.tokens)::float8 as tokens,
           sum(r.cost_usd)::float8 as cost_usd,
           sum(r.encoder_requests)::float8 as encoder_requests,
           sum(r.rate_limited)::float8 as rate_limited,
           min(r.started_at) as started_at,
           max(r.finished_at) as finished_at,
           extract(epoch from (max(coalesce(r.finished_at, r.heartbeat_at)) - min(r.started_at)))::float8 as wall_seconds,
           coalesce(sum(extract(epoch from (coalesce(r.finished_at, r.heartbeat_at) - r.started_at))), 0)::float8 as worker_seconds
    from backfill_runs r
    where r.embedding_version_id in (${sql.join(versionIds)})
    group by r.embedding_version_id
    order by r.embedding_version_id`.execute(db);
  const keys = await versionKeysById(db, { ids: versionIds });
  return r.rows.map((row) => ({ ...row, version_key: keys.get(row.version_id)! }));
}
