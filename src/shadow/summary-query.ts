/**
 * The shadow log's aggregates, computed by the database: one query per
 * quantity, bounded in what it returns, so a large shadow log is never
 * pulled into memory. `embctl shadow report` (summary.ts) and the HTML
 * upgrade report both read shadow agreement through these functions.
 *
 * Quantiles are `percentile_cont` (linear interpolation between order
 * statistics, Hyndman & Fan type 7: the same as stats/quantile).
 */
import { sql, type Kysely, type RawBuilder } from 'kysely';
import type { DB } from '../db/index.js';
import { versionKeysById, versionKeysOf } from '../versions/index.js';

type K = Kysely<DB>;

/** Which rows of shadow_queries: one candidate, optionally a time window (both ends inclusive). */
export interface ShadowScope {
  candidateId: number;
  since?: Date;
  until?: Date;
}

function where(s: ShadowScope, alias?: 'q'): RawBuilder<unknown> {
  const col = (c: string) => sql.ref(alias ? `${alias}.${c}` : c);
  const parts = [sql`${col('candidate_version_id')} = ${s.candidateId}`];
  if (s.since) parts.push(sql`${col('created_at')} >= ${s.since}`);
  if (s.until) parts.push(sql`${col('created_at')} <= ${s.until}`);
  return sql.join(parts, sql` and `);
}

/** One row of agreement statistics (all nulls but `n` and `kinds` when no row matched). */
export interface AgreementStats {
  /** null: the whole scope, or queries logged without a segment when grouped by segment. */
  segment: string | null;
  n: number;
  /** Distinct K values used. */
  kinds: number;
  /** The most common K. */
  k: number | null;
  firstAt: Date | null;
  lastAt: Date | null;
  overlap: { mean: number | null; p10: number | null; p50: number | null };
  rbo: { mean: number | null; p10: number | null; p50: number | null };
  jaccard: { mean: number | null };
  /** candidate_ms − primary_ms per query. */
  latencyDeltaMs: { p50: number | null; p95: number | null };
  primaryMs: { mean: number | null; p50: number | null; p95: number | null; p99: number | null };
  candidateMs: { mean: number | null; p50: number | null; p95: number | null; p99: number | null };
}

interface StatsRow {
  segment: string | null;
  n: number;
  kinds: number;
  k: number | null;
  first_at: Date | string | null;
  last_at: Date | string | null;
  o_mean: number | null;
  o_p10: number | null;
  o_p50: number | null;
  r_mean: number | null;
  r_p10: number | null;
  r_p50: number | null;
  j_mean: number | null;
  d_p50: number | null;
  d_p95: number | null;
  p_mean: number | null;
  p_p50: number | null;
  p_p95: number | null;
  p_p99: number | null;
  c_mean: number | null;
  c_p50: number | null;
  c_p95: number | null;
  c_p99: number | null;
}

/**
 * Agreement statistics of the scope, as one row, or one row per segment
 * (`bySegment`: ordered by count, descending, then segment; the first `limit`).
 */
export async function agreementStats(
  db: K,
  scope: ShadowScope,
  opts: { bySegment: true; limit?: number },
): Promise<AgreementStats[]>;
export async function agreementStats(db: K, scope: ShadowScope, opts?: { bySegment?: false }): Promise<AgreementStats>;
export async function agreementStats(
  db: K,
  scope: ShadowScope,
  opts: { bySegment?: boolean; limit?: number } = {},
): Promise<AgreementStats | AgreementStats[]> {
  const pc = (q: number, col: RawBuilder<unknown>) => sql`percentile_cont(${q}::float8) within group (order by ${col})`;
  const [overlap, rbo, delta, pms, cms] = [
    sql`overlap_at_k`,
    sql`rbo`,
    sql`(candidate_ms - primary_ms)`,
    sql`primary_ms`,
    sql`candidate_ms`,
  ];
  const r = await sql<StatsRow>`
    select ${opts.bySegment ? sql`segment` : sql`null::text`} as segment,
           count(*)::int as n,
           count(distinct k)::int as kinds,
           mode() within group (order by k) as k,
           min(created_at) as first_at,
           max(created_at) as last_at,
           avg(overlap_at_k)::float8 as o_mean, ${pc(0.1, overlap)} as o_p10, ${pc(0.5, overlap)} as o_p50,
           avg(rbo)::float8 as r_mean, ${pc(0.1, rbo)} as r_p10, ${pc(0.5, rbo)} as r_p50,
           avg(jaccard)::float8 as j_mean,
           ${pc(0.5, delta)} as d_p50, ${pc(0.95, delta)} as d_p95,
           avg(primary_ms)::float8 as p_mean, ${pc(0.5, pms)} as p_p50, ${pc(0.95, pms)} as p_p95, ${pc(0.99, pms)} as p_p99,
           avg(candidate_ms)::float8 as c_mean, ${pc(0.5, cms)} as c_p50, ${pc(0.95, cms)} as c_p95, ${pc(0.99, cms)} as c_p99
    from shadow_queries
    where ${where(scope)}
    ${opts.bySegment ? sql`group by segment order by count(*) desc, segment` : sql``}
    ${opts.bySegment && opts.limit !== undefined ? sql`limit ${opts.limit}` : sql``}`.execute(db);
  const rows = r.rows.map(toStats);
  return opts.bySegment ? rows : rows[0]!;
}

const num = (v: unknown): number | null => (v === null || v === undefined ? null : Number(v));
const date = (v: Date | string | null): Date | null => (v === null ? null : new Date(v));

function toStats(r: StatsRow): AgreementStats {
  return {
    segment: r.segment,
    n: Number(r.n),
    kinds: Number(r.kinds),
    k: num(r.k),
    firstAt: date(r.first_at),
    lastAt: date(r.last_at),
    overlap: { mean: num(r.o_mean), p10: num(r.o_p10), p50: num(r.o_p50) },
    rbo: { mean: num(r.r_mean), p10: num(r.r_p10), p50: num(r.r_p50) },
    jaccard: { mean: num(r.j_mean) },
    latencyDeltaMs: { p50: num(r.d_p50), p95: num(r.d_p95) },
    primaryMs: { mean: num(r.p_mean), p50: num(r.p_p50), p95: num(r.p_p95), p99: num(r.p_p99) },
    candidateMs: { mean: num(r.c_mean), p50: num(r.c_p50), p95: num(r.c_p95), p99: num(r.c_p99) },
  };
}

/** Keys of the primary versions that served the scope's queries, sorted. */
export async function shadowPrimaryKeys(db: K, scope: ShadowScope): Promise<string[]> {
  const r = await sql<{ id: number }>`
    select distinct q.primary_version_id as id from shadow_queries q where ${where(scope, 'q')}`.execute(db);
  return versionKeysOf(
    db,
    r.rows.map((x) => Number(x.id)),
  );
}

/** The candidate of the most recently logged shadow query, if any (ordered by the log's own id). */
export async function lastLoggedCandidate(db: K): Promise<{ key: string; id: number } | undefined> {
  const last = await db
    .selectFrom('shadow_queries')
    .select('candidate_version_id')
    .orderBy('id', 'desc')
    .limit(1)
    .executeTakeFirst();
  if (!last) return undefined;
  const id = last.candidate_version_id;
  const key = (await versionKeysById(db, { ids: [id] })).get(id);
  return key === undefined ? undefined : { key, id };
}

export interface LowOverlapQuery {
  /** sha256 of the query text, hex. */
  sha256: string;
  /** The first stored raw text of this query, if any occurrence stored it. */
  text: string | null;
  segment: string | null;
  overlap: number;
  rbo: number;
  /** How often this query was sampled in the scope (its worst occurrence is shown). */
  times: number;
  at: Date;
  primaryIds: number[];
  candidateIds: number[];
}

/**
 * The `limit` distinct queries (by hash) with the lowest overlap, each at its
 * worst occurrence (lowest overlap, then lowest RBO, then the latest; on a
 * full tie the first logged). Ties between queries go to the one seen first.
 */
export async function worstQueries(db: K, scope: ShadowScope, limit: number): Promise<LowOverlapQuery[]> {
  if (limit <= 0) return [];
  const r = await sql<{
    query_sha256: Uint8Array;
    text: string | null;
    segment: string | null;
    overlap_at_k: number;
    rbo: number;
    times: number;
    created_at: Date | string;
    primary_ids: (number | string)[];
    candidate_ids: (number | string)[];
  }>`
    with scoped as (
      select *, row_number() over (order by created_at, id) as seq
      from shadow_queries
      where ${where(scope)}
    ), ranked as (
      select *,
             row_number() over (partition by query_sha256 order by overlap_at_k, rbo, created_at desc, id) as rn,
             count(*) over (partition by query_sha256)::int as times,
             min(seq) over (partition by query_sha256) as first_seq,
             first_value(query_text) over (
               partition by query_sha256 order by (query_text is null), created_at, id
               rows between unbounded preceding and unbounded following) as text
      from scoped
    )
    select query_sha256, text, segment, overlap_at_k, rbo, times, created_at, primary_ids, candidate_ids
    from ranked
    where rn = 1
    order by overlap_at_k, rbo, created_at desc, first_seq
    limit ${limit}`.execute(db);
  return r.rows.map((x) => ({
    sha256: Buffer.from(x.query_sha256).toString('hex'),
    text: x.text,
    segment: x.segment,
    overlap: Number(x.overlap_at_k),
    rbo: Number(x.rbo),
    times: Number(x.times),
    at: new Date(x.created_at),
    primaryIds: (x.primary_ids ?? []).map(Number),
    candidateIds: (x.candidate_ids ?? []).map(Number),
  }));
}

export interface SeriesBucket {
  /** Start of the bucket: a whole multiple of the width since the Unix epoch. */
  start: Date;
  n: number;
  meanOverlap: number;
  meanRbo: number;
}

/** Count and mean agreement per time bucket of `bucketMs` (buckets with no query are left out). */
export async function agreementSeries(db: K, scope: ShadowScope, bucketMs: number): Promise<SeriesBucket[]> {
  if (!(Number.isInteger(bucketMs) && bucketMs >= 1))
    throw new RangeError(`bucket width must be a whole number of ms, got ${bucketMs}`);
  const r = await sql<{ t: number | string; n: number; overlap: number; rbo: number }>`
    select (floor(extract(epoch from created_at)::numeric * 1000 / ${bucketMs}::numeric) * ${bucketMs}::numeric)::float8 as t,
           count(*)::int as n,
           avg(overlap_at_k)::float8 as overlap,
           avg(rbo)::float8 as rbo
    from shadow_queries
    where ${where(scope)}
    group by 1 order by 1`.execute(db);
  return r.rows.map((x) => ({
    start: new Date(Number(x.t)),
    n: Number(x.n),
    meanOverlap: Number(x.overlap),
    meanRbo: Number(x.rbo),
  }));
}

/**
 * Counts per bin. `discreteK`: overlap@K takes the values i/K, one bin each
 * (bin i = round(overlap * K)); otherwise `bins` equal bins over [0, 1].
 */
export async function agreementHistogram(
  db: K,
  scope: ShadowScope,
  column: 'overlap_at_k' | 'rbo',
  opts: { bins: number; discreteK?: number },
): Promise<{ bin: number; n: number }[]> {
  const col = sql.ref(column);
  const bin = opts.discreteK
    ? sql`least(greatest(round(${col} * ${opts.discreteK}::float8)::int, 0), ${opts.discreteK}::int)`
    : sql`least(greatest(floor(${col} * ${opts.bins}::float8 + 1e-9)::int, 0), ${opts.bins - 1}::int)`;
  const r = await sql<{ bin: number; n: number }>`
    select ${bin} as bin, count(*)::int as n
    from shadow_queries
    where ${where(scope)}
    group by 1 order by 1`.execute(db);
  return r.rows.map((x) => ({ bin: Number(x.bin), n: Number(x.n) }));
}

/**
 * Per-query values of the newest `limit` queries of the scope, in time order
 * (for histograms drawn by a caller). Bounded: never the whole log.
 */
export async function recentValues(
  db: K,
  scope: ShadowScope,
  limit: number,
): Promise<{ overlap: number[]; rbo: number[]; jaccard: number[]; latencyDeltaMs: number[] }> {
  const out = { overlap: [] as number[], rbo: [] as number[], jaccard: [] as number[], latencyDeltaMs: [] as number[] };
  if (limit <= 0) return out;
  const r = await sql<{ overlap_at_k: number; rbo: number; jaccard: number; delta: number }>`
    select overlap_at_k, rbo, jaccard, delta from (
      select id, created_at, overlap_at_k, rbo, jaccard, candidate_ms - primary_ms as delta
      from shadow_queries
      where ${where(scope)}
      order by created_at desc, id desc
      limit ${limit}
    ) newest
    order by created_at, id`.execute(db);
  for (const x of r.rows) {
    out.overlap.push(Number(x.overlap_at_k));
    out.rbo.push(Number(x.rbo));
    out.jaccard.push(Number(x.jaccard));
    out.latencyDeltaMs.push(Number(x.delta));
  }
  return out;
}

/**
 * Sampled queries dropped and candidate searches failed, as stored by every
 * serving process in shadow_drops (hour buckets). With a window: the buckets
 * from the hour holding `since` to `until`.
 */
export async function storedDrops(db: K, scope: ShadowScope): Promise<{ dropped: number; failed: number }> {
  const parts = [sql`candidate_version_id = ${scope.candidateId}`];
  if (scope.since) parts.push(sql`bucket_start >= date_trunc('hour', ${scope.since}::timestamptz)`);
  if (scope.until) parts.push(sql`bucket_start <= ${scope.until}::timestamptz`);
  const r = await sql<{ dropped: number | string; failed: number | string }>`
    select coalesce(sum(dropped), 0)::float8 as dropped, coalesce(sum(failed), 0)::float8 as failed
    from shadow_drops where ${sql.join(parts, sql` and `)}`.execute(db);
  return { dropped: Number(r.rows[0]?.dropped ?? 0), failed: Number(r.rows[0]?.failed ?? 0) };
}
