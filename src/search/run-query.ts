import type { Kysely, RawBuilder } from 'kysely';
import { preparedQuery, type DB, type IndexKind, type QueryVector } from '../db/index.js';
import type { MetadataFilter } from './filters.js';
import { applyKnobs, type AppliedKnobs, type Knobs } from './knobs.js';
import { textCandidates, vectorCandidates, type CandidateRow, type SearchTarget } from './sql.js';

export interface QueryPlan {
  target: SearchTarget;
  index: { kind: IndexKind; lists?: number };
  /** The query's vector (a parameter: binary to a server, text to PGlite). */
  vector: QueryVector;
  /** Candidates wanted from the vector side. */
  limit: number;
  filter?: MetadataFilter;
  knobs: Knobs;
  exact: boolean;
  /** Hybrid: the text for full-text search, and its candidate count. */
  text?: { query: string; limit: number };
}

export interface QueryOutcome {
  vector: CandidateRow[];
  text: CandidateRow[];
  applied: AppliedKnobs;
  exactFallback?: { annRows: number; exactRows: number; reason: string };
}

const byDistance = (a: CandidateRow, b: CandidateRow) => a.distance - b.distance || a.chunk_id - b.chunk_id;

/**
 * Run one search's SQL on one connection, `conn` (no transaction: the ANN
 * settings are that connection's session settings, sent only when they
 * differ, so a search is usually one statement). The exact queries below are
 * fenced (`offset 0`) and do not depend on those settings. An ANN scan may
 * stop short: under a very selective filter (the iterative scan reached
 * max_scan_tuples), or without a filter when retired chunks filled its
 * candidates. If it returned fewer than `limit` rows, exact search on the
 * same partition tells whether more rows match, and replaces the ANN rows
 * when it found more.
 */
export async function runQuery(conn: Kysely<DB>, plan: QueryPlan): Promise<QueryOutcome> {
  const applied = await applyKnobs(conn, plan.index, plan.knobs, plan.limit, plan.exact, plan.filter !== undefined);
  const ann = vectorCandidates(plan.target, plan.vector, plan.limit, plan.filter, applied.exact);
  // An unfiltered query is the hot path: prepared once per session and shape
  // (version, ANN or exact). A filtered one is planned per search, for its
  // filter's selectivity (a generic plan cannot tell a rare value from a
  // common one).
  const { rows } = plan.filter ? await ann.execute(conn) : await executePrepared(conn, ann);
  let vector = rows.map(normalize).sort(byDistance); // relaxed_order: re-sort
  let exactFallback: QueryOutcome['exactFallback'];
  if (!applied.exact && vector.length < plan.limit) {
    const exact = (await vectorCandidates(plan.target, plan.vector, plan.limit, plan.filter, true).execute(conn)).rows
      .map(normalize)
      .sort(byDistance);
    if (exact.length > vector.length) {
      exactFallback = {
        annRows: vector.length,
        exactRows: exact.length,
        reason: `the ANN index returned ${vector.length} of ${plan.limit} rows${plan.filter ? ' under the filter' : ''}; exact search on the partition found ${exact.length}`,
      };
      vector = exact;
    }
  }
  let text: CandidateRow[] = [];
  if (plan.text) {
    text = (
      await textCandidates(plan.target, plan.vector, plan.text.query, plan.text.limit, plan.filter).execute(conn)
    ).rows.map(normalize);
  }
  return { vector, text, applied, exactFallback };
}

async function executePrepared<R>(conn: Kysely<DB>, q: RawBuilder<R>) {
  return conn.executeQuery<R>(preparedQuery(q.compile(conn)));
}

function normalize(r: CandidateRow): CandidateRow {
  return {
    ...r,
    chunk_id: Number(r.chunk_id),
    distance: Number(r.distance),
    chunk_no: Number(r.chunk_no),
    text_rank: r.text_rank === undefined ? undefined : Number(r.text_rank),
  };
}
