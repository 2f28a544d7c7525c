/**
 * The `relevance_judgments` table: every read and write of it goes through
 * here. A judge's rows are inserted with ON CONFLICT DO NOTHING (a pair is
 * judged once per judge identity, even by two runs at once); human labels
 * are upserted (the latest import of a pair wins).
 */
import { sql, type Kysely, type Selectable } from 'kysely';
import type { DB, JudgedKeyKind, RelevanceJudgmentsTable } from '../db/index.js';

export type JudgmentRow = Selectable<RelevanceJudgmentsTable>;

/** One judgment to store: a grade, or the reason there is none. */
export interface NewJudgment {
  querySha256: string;
  queryText: string;
  keyKind: JudgedKeyKind;
  key: string;
  judge: { id: string; spec: string; model: string | null; revision: string | null; settings: Record<string, unknown> };
  grade: number | null;
  raw: number | null;
  failure: string | null;
  actor: string;
}

/** `sha256 \0 key`: one pair of a query and a document or chunk. */
export function pairKey(querySha: string, key: string): string {
  return `${querySha}\u0000${key}`;
}

function values(j: NewJudgment) {
  return {
    query_sha256: j.querySha256,
    query_text: j.queryText,
    key_kind: j.keyKind,
    doc_key: j.key,
    judge: j.judge.id,
    judge_spec: j.judge.spec,
    judge_model: j.judge.model,
    judge_revision: j.judge.revision,
    judge_settings: JSON.stringify(j.judge.settings),
    grade: j.grade,
    raw_score: j.raw,
    failure: j.failure,
    actor: j.actor,
  };
}

/** Store a judge's verdicts; a pair already stored for the judge is kept as it is. Returns how many were new. */
export async function insertJudgments(db: Kysely<DB>, rows: readonly NewJudgment[]): Promise<number> {
  if (rows.length === 0) return 0;
  const r = await db
    .insertInto('relevance_judgments')
    .values(rows.map(values))
    .onConflict((oc) => oc.columns(['judge', 'key_kind', 'query_sha256', 'doc_key']).doNothing())
    .executeTakeFirst();
  return Number(r.numInsertedOrUpdatedRows ?? 0);
}

/** Store human labels: a pair labelled again takes the new grade. Returns how many rows were written. */
export async function upsertLabels(db: Kysely<DB>, rows: readonly NewJudgment[]): Promise<number> {
  if (rows.length === 0) return 0;
  const r = await db
    .insertInto('relevance_judgments')
    .values(rows.map(values))
    .onConflict((oc) =>
      oc.columns(['judge', 'key_kind', 'query_sha256', 'doc_key']).doUpdateSet((eb) => ({
        grade: eb.ref('excluded.grade'),
        judge_spec: eb.ref('excluded.judge_spec'),
        raw_score: eb.ref('excluded.raw_score'),
        failure: eb.ref('excluded.failure'),
        query_text: eb.ref('excluded.query_text'),
        actor: eb.ref('excluded.actor'),
        // the new row's own default (Citus refuses now() in DO UPDATE SET on a reference table)
        created_at: eb.ref('excluded.created_at'),
      })),
    )
    .executeTakeFirst();
  return Number(r.numInsertedOrUpdatedRows ?? 0);
}

/**
 * The pairs a judge already has a row for (graded or failed), among these
 * queries: `pairKey(sha, key)` -> whether it failed.
 */
export async function storedPairs(
  db: Kysely<DB>,
  judge: string,
  keyKind: JudgedKeyKind,
  querySha256s: readonly string[],
): Promise<Map<string, boolean>> {
  const out = new Map<string, boolean>();
  if (querySha256s.length === 0) return out;
  const rows = await db
    .selectFrom('relevance_judgments')
    .select(['query_sha256', 'doc_key', 'failure'])
    .where('judge', '=', judge)
    .where('key_kind', '=', keyKind)
    .where('query_sha256', '=', sql<string>`any(${[...new Set(querySha256s)]}::text[])`)
    .execute();
  for (const r of rows) out.set(pairKey(r.query_sha256, r.doc_key), r.failure !== null);
  return out;
}

/** Graded judgments of these queries, from the given judges (all when `judges` is undefined), oldest first. */
export async function gradedJudgments(
  db: Kysely<DB>,
  keyKind: JudgedKeyKind,
  querySha256s: readonly string[],
  judges?: readonly string[],
): Promise<JudgmentRow[]> {
  if (querySha256s.length === 0 || (judges && judges.length === 0)) return [];
  let q = db
    .selectFrom('relevance_judgments')
    .selectAll()
    .where('key_kind', '=', keyKind)
    .where('query_sha256', '=', sql<string>`any(${[...new Set(querySha256s)]}::text[])`)
    .where('grade', 'is not', null);
  if (judges) q = q.where('judge', '=', sql<string>`any(${[...judges]}::text[])`);
  return q.orderBy('id').execute();
}

/** Forget a judge's failed verdicts on these pairs (before `--retry-failed` judges them again), in one statement. */
export async function deleteFailed(
  db: Kysely<DB>,
  judge: string,
  keyKind: JudgedKeyKind,
  pairs: ReadonlyArray<{ querySha256: string; key: string }>,
): Promise<number> {
  if (pairs.length === 0) return 0;
  const r = await db
    .deleteFrom('relevance_judgments')
    .where('judge', '=', judge)
    .where('key_kind', '=', keyKind)
    .where('failure', 'is not', null)
    .where(
      sql<boolean>`(query_sha256, doc_key) in (select * from unnest(${pairs.map((p) => p.querySha256)}::text[], ${pairs.map((p) => p.key)}::text[]))`,
    )
    .executeTakeFirst();
  return Number(r.numDeletedRows);
}

/** Every judge with judgments, with counts (for `judge list` and status). */
export async function judgeCounts(
  db: Kysely<DB>,
): Promise<Array<{ judge: string; spec: string; graded: number; failed: number; last: Date }>> {
  const rows = await db
    .selectFrom('relevance_judgments')
    .select((eb) => [
      'judge',
      eb.fn.max('judge_spec').as('spec'),
      sql<string>`count(grade)`.as('graded'),
      sql<string>`count(failure)`.as('failed'),
      eb.fn.max('created_at').as('last'),
    ])
    .groupBy('judge')
    .orderBy('judge')
    .execute();
  return rows.map((r) => ({
    judge: r.judge,
    spec: String(r.spec),
    graded: Number(r.graded),
    failed: Number(r.failed),
    last: new Date(r.last as unknown as string),
  }));
}
