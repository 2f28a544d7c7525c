import type { CompiledQuery, Kysely } from 'kysely';
import { preparedQuery, QueryVector, withSessionSettings, type DB, type IndexKind } from '../db/index.js';
import type { MetadataFilter } from './filters.js';
import { knobSettings, type AppliedKnobs, type Knobs } from './knobs.js';
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
 * Run one search's SQL on `conn`: `db.kysely` (no transaction: the ANN
 * statement carries its settings, made session settings of the pooled
 * connection it runs on, sent only when they differ, so a search is usually
 * one statement), or a transaction (Citus: SET LOCAL). The exact queries
 * below are fenced (`offset 0`) and do not depend on those settings. An
 * ANN scan may stop short: under a very selective filter (the iterative
 * scan reached max_scan_tuples), or without a filter when retired chunks
 * filled its candidates. If it returned fewer than `limit` rows, exact
 * search on the same partition tells whether more rows match, and replaces
 * the ANN rows when it found more.
 */
export async function runQuery(conn: Kysely<DB>, plan: QueryPlan): Promise<QueryOutcome> {
  const { applied, settings } = knobSettings(plan.index, plan.knobs, plan.limit, plan.exact, plan.filter !== undefined);
  // An unfiltered query is the hot path: prepared once per session and shape
  // (version, ANN or exact). A filtered one is planned per search, for its
  // filter's selectivity (a generic plan cannot tell a rare value from a
  // common one). Its settings go with it: one call, and on `db.kysely` one
  // checkout of a pooled connection, whose session gets them first where
  // it has other values (usually it has them already).
  const ann = plan.filter
    ? vectorCandidates(plan.target, plan.vector, plan.limit, plan.filter, applied.exact).compile(conn)
    : unfilteredStatement(conn, plan.target, plan.vector, plan.limit, applied.exact);
  const { rows } = await conn.executeQuery<CandidateRow>(withSessionSettings(ann, settings));
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

/**
 * The unfiltered statements, compiled once per shape and kept prepared
 * (`preparedQuery`): their SQL depends only on the key's fields, and their
 * parameters are the query vector, in the place of `SLOT`, and constants.
 */
const statements = new Map<string, CompiledQuery>();
const MAX_STATEMENTS = 256;
const SLOT = new QueryVector([]);

function unfilteredStatement(
  conn: Kysely<DB>,
  v: SearchTarget,
  vector: QueryVector,
  limit: number,
  exact: boolean,
): CompiledQuery {
  const key = `${v.id}|${v.dimensions}|${v.distance_metric}|${v.index_storage}|${JSON.stringify(v.derivation ?? null)}|${vector.dimensions}|${limit}|${exact}`;
  let shape = statements.get(key);
  if (!shape) {
    if (statements.size >= MAX_STATEMENTS) statements.clear();
    // Compiled with the real vector (its SQL may depend on its dimensions),
    // then that parameter made the slot.
    const q = vectorCandidates(v, vector, limit, undefined, exact).compile(conn);
    const parameters = q.parameters.map((p) => (p === vector ? SLOT : p));
    // Only a statement whose one varying parameter is this vector can be kept.
    if (!parameters.includes(SLOT) || parameters.some((p) => p instanceof QueryVector && p !== SLOT))
      return preparedQuery(q);
    shape = preparedQuery({ ...q, parameters });
    statements.set(key, shape);
  }
  return { ...shape, parameters: shape.parameters.map((p) => (p === SLOT ? vector : p)) };
}

/** A row as the driver returned it (bigints as strings), its numbers made numbers, in place. */
function normalize(r: CandidateRow): CandidateRow {
  r.chunk_id = Number(r.chunk_id);
  r.distance = Number(r.distance);
  r.chunk_no = Number(r.chunk_no);
  if (r.text_rank !== undefined) r.text_rank = Number(r.text_rank);
  return r;
}
