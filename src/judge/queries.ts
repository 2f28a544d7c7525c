/**
 * Where the pooled queries come from: a judged set (its labels are never
 * judged again), or the shadow log of the candidate, whose query texts are
 * stored only when shadowing was started with --store-text.
 */
import { sql, type Kysely } from 'kysely';
import type { DB } from '../db/index.js';
import { RefusedError } from '../errors.js';
import type { JudgedSet } from '../judged-set/index.js';
import type { VersionRow } from '../versions/index.js';
import type { PoolQuery } from './pool.js';

export function judgedSetQueries(set: JudgedSet): PoolQuery[] {
  return set.queries.map((q) => ({
    id: q.id,
    text: q.text,
    segment: q.segment,
    labelled: new Set(q.relevant.keys()),
  }));
}

export interface ShadowQueryOptions {
  since: Date;
  /** Most distinct queries, the most frequent first (default 200). */
  limit?: number;
}

/** Distinct shadowed query texts of a candidate since a time, the most frequent first. */
export async function shadowQueries(
  db: Kysely<DB>,
  candidate: VersionRow,
  o: ShadowQueryOptions,
): Promise<PoolQuery[]> {
  const limit = o.limit ?? 200;
  const { rows } = await sql<{ text: string; segment: string | null; n: string }>`
    select query_text as text, min(segment) as segment, count(*) as n
      from shadow_queries
     where candidate_version_id = ${candidate.id} and created_at >= ${o.since} and query_text is not null
     group by query_text
     order by count(*) desc, min(id)
     limit ${limit}`.execute(db);
  if (rows.length === 0) {
    const { rows: any } = await sql<{ n: string }>`
      select count(*) as n from shadow_queries where candidate_version_id = ${candidate.id} and created_at >= ${o.since}`.execute(
      db,
    );
    const logged = Number(any[0]?.n ?? 0);
    throw new RefusedError(
      logged === 0
        ? `no shadowed queries of ${candidate.version_key} since ${o.since.toISOString()}: shadow it first (embctl shadow start ${candidate.version_key} --sample <rate> --store-text), or judge a judged set (--judged)`
        : `the ${logged} shadowed queries of ${candidate.version_key} since ${o.since.toISOString()} have no stored text (only their sha256): restart shadowing with embctl shadow start ${candidate.version_key} --sample <rate> --store-text, or judge a judged set (--judged)`,
    );
  }
  return rows.map((r, i) => ({
    id: `shadow-${i + 1}`,
    text: r.text,
    segment: r.segment,
    labelled: new Set<string>(),
  }));
}
