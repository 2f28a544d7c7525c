import { sql, type Kysely } from 'kysely';
import type { DB } from '../db/index.js';
import { annIndexState, partitionTable, type IndexState } from '../partitions/index.js';
import { lastCanaryEvent, type VersionRow } from '../versions/index.js';

/** One reason a version should not serve. */
export interface Problem {
  code: 'retired' | 'incomplete' | 'index_missing' | 'index_invalid' | 'gate_failed' | 'gate_missing' | 'canary_failed';
  /** What is wrong and what to do, one line. */
  message: string;
}

export interface Readiness {
  live: number;
  missing: number;
  /** With `comparedTo`: live chunks that have a vector in neither version (not a problem of this one). */
  missingInBoth?: number;
  index: IndexState | 'none';
  gate: { runId: number; passed: boolean | null; at: Date } | null;
  /** With `gate`: the version's last canary event (null: no canary recorded or checked). */
  canary: { event: 'canary_recorded' | 'canary_checked' | 'canary_failed'; at: Date } | null;
  problems: Problem[];
}

/**
 * Whether a version can serve: not retired, every live chunk has a vector in
 * its partition, its ANN index exists and is valid (unless index kind none)
 * and, when `gate` is asked, its latest gated evaluation run passed and its
 * last encoder canary check did not fail (a version without a canary is not
 * refused for that).
 *
 * With `comparedTo` (the version serving now, for a rollback), coverage is
 * judged against it: the target is incomplete only if it lacks vectors the
 * serving version has. Chunks ingested since the last sync are missing from
 * both, and switching loses nothing; they are counted in `missingInBoth`.
 */
export async function checkReadiness(
  db: Kysely<DB>,
  v: VersionRow,
  opts: { gate: boolean; comparedTo?: VersionRow },
): Promise<Readiness> {
  const r: Readiness = {
    live: 0,
    missing: 0,
    index: v.index_kind === 'none' ? 'none' : 'missing',
    gate: null,
    canary: null,
    problems: [],
  };
  if (v.state === 'retired') {
    r.problems.push({
      code: 'retired',
      message: `version ${v.version_key} is retired (its vectors were dropped): register and backfill a new version instead`,
    });
    return r;
  }
  const target = sql.raw(partitionTable(v.id));
  const other =
    opts.comparedTo && opts.comparedTo.id !== v.id && opts.comparedTo.state !== 'retired' ? opts.comparedTo : undefined;
  const { rows } = other
    ? await sql<{ live: number; missing: number; both: number }>`
        select count(*) as live,
               count(*) filter (where not exists (select 1 from ${target} e where e.chunk_id = c.id)
                                  and exists (select 1 from ${sql.raw(partitionTable(other.id))} a where a.chunk_id = c.id)) as missing,
               count(*) filter (where not exists (select 1 from ${target} e where e.chunk_id = c.id)
                                  and not exists (select 1 from ${sql.raw(partitionTable(other.id))} a where a.chunk_id = c.id)) as both
        from document_chunks c where c.retired_at is null`.execute(db)
    : await sql<{ live: number; missing: number; both: number }>`
        select count(*) as live,
               count(*) filter (where not exists (select 1 from ${target} e where e.chunk_id = c.id)) as missing,
               0 as both
        from document_chunks c where c.retired_at is null`.execute(db);
  r.live = Number(rows[0]?.live ?? 0);
  r.missing = Number(rows[0]?.missing ?? 0);
  if (other) r.missingInBoth = Number(rows[0]?.both ?? 0);
  if (r.missing > 0) {
    r.problems.push({
      code: 'incomplete',
      message: other
        ? `version ${v.version_key} lacks vectors for ${r.missing} of ${r.live} live chunks that ${other.version_key} (serving now) has: run embctl backfill ${v.version_key}`
        : `version ${v.version_key} is not fully backfilled (${r.missing} of ${r.live} live chunks have no vector): run embctl backfill ${v.version_key}`,
    });
  }
  if (v.index_kind !== 'none') {
    r.index = await annIndexState(db, v.id);
    if (r.index === 'missing')
      r.problems.push({
        code: 'index_missing',
        message: `version ${v.version_key} has no ${v.index_kind} index: run embctl backfill ${v.version_key} to build it`,
      });
    if (r.index === 'invalid')
      r.problems.push({
        code: 'index_invalid',
        message: `the ${v.index_kind} index of version ${v.version_key} is invalid (a failed build): run embctl backfill ${v.version_key} to rebuild it`,
      });
  }
  if (opts.gate) {
    const run = await db
      .selectFrom('evaluation_runs')
      .select(['id', 'passed', 'created_at'])
      .where('embedding_version_id', '=', v.id)
      .where('gated', '=', true)
      .orderBy('id', 'desc')
      .limit(1)
      .executeTakeFirst();
    if (run) r.gate = { runId: Number(run.id), passed: run.passed, at: run.created_at };
    if (!run) {
      r.problems.push({
        code: 'gate_missing',
        message: `version ${v.version_key} has no gated evaluation: run embctl evaluate --version ${v.version_key} --gate`,
      });
    } else if (run.passed !== true) {
      r.problems.push({
        code: 'gate_failed',
        message: `the last gated evaluation of version ${v.version_key} (run ${run.id}) failed: fix the model or its gates and run embctl evaluate --version ${v.version_key} --gate again`,
      });
    }
    const canary = await lastCanaryEvent(db, v.id);
    if (canary) r.canary = { event: canary.event, at: canary.at };
    if (canary?.event === 'canary_failed') {
      r.problems.push({
        code: 'canary_failed',
        message: `the last encoder canary check of version ${v.version_key} (${canary.at.toISOString()}) failed: its encoder no longer returns the vectors it was registered with; register and backfill a new version, or run embctl versions verify ${v.version_key} again once the provider is back on the model`,
      });
    }
  }
  return r;
}
