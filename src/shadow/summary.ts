import { sql } from 'kysely';
import type { Db } from '../db/open.js';
import { requireVersion } from '../versions/store.js';
import { versionKeysById } from '../versions/queries/index.js';
import { currentShadow, type ShadowTarget } from './config.js';
import { storedShadowDrops } from './record.js';
import { mean, quantile } from '../stats/index.js';

export interface ShadowReportOptions {
  /** Candidate version key. Default: the one shadowed now, else the last one logged. */
  candidate?: string;
  /** Start of the window. Default: 24 hours before `now`. */
  since?: Date;
  now?: Date;
  /** How many low-overlap queries to list. Default 10. */
  worst?: number;
  /** Width of a time-series bucket. Default: an hour for windows up to 7 days, else a day. */
  bucketMs?: number;
  /** Counts of this process's shadower not yet stored in shadow_drops. */
  live?: { unflushedDropped?: number; unflushedFailed?: number };
}

export interface AgreementSummary {
  count: number;
  overlap: { mean: number | null; p10: number | null };
  rbo: { mean: number | null; p10: number | null };
  jaccard: { mean: number | null };
  /** candidate_ms − primary_ms per query. */
  latencyDeltaMs: { p50: number | null; p95: number | null };
  primaryMs: { p50: number | null; p95: number | null };
  candidateMs: { p50: number | null; p95: number | null };
}

export interface SegmentSummary extends AgreementSummary {
  /** null: queries logged without a segment. */
  segment: string | null;
}

export interface LowOverlapQuery {
  /** sha256 of the query text, hex. */
  sha256: string;
  /** The raw text, only when the shadow stored it. */
  text: string | null;
  segment: string | null;
  overlap: number;
  rbo: number;
  /** How often this query was sampled in the window (its worst occurrence is shown). */
  times: number;
  at: Date;
  primaryIds: number[];
  candidateIds: number[];
}

export interface ShadowReport {
  candidate: { key: string; id: number } | null;
  /** The running shadow configuration, if the candidate is shadowed now. */
  config: ShadowTarget | null;
  since: Date;
  until: Date;
  /** Primary versions that served the logged queries. */
  primaries: string[];
  overall: AgreementSummary;
  segments: SegmentSummary[];
  lowestOverlap: LowOverlapQuery[];
  /** Raw per-query values, in time order, for histograms. */
  distributions: { overlap: number[]; rbo: number[]; jaccard: number[]; latencyDeltaMs: number[] };
  /** Per time bucket, for over-time charts (buckets with no query are left out). */
  timeSeries: { bucketStart: Date; count: number; meanOverlap: number; meanRbo: number }[];
  bucketMs: number;
  /**
   * Sampled queries dropped (queue full, shutdown) and candidate searches that
   * failed, in the window: stored by every serving process (shadow_drops, hour
   * buckets), plus `live` counts not stored yet.
   */
  dropped: number;
  failed: number;
}

interface Row {
  created_at: Date;
  query_sha256: Uint8Array;
  query_text: string | null;
  segment: string | null;
  primary_key: string;
  k: number;
  primary_ids: number[];
  candidate_ids: number[];
  overlap_at_k: number;
  jaccard: number;
  rbo: number;
  primary_ms: number;
  candidate_ms: number;
}

const HOUR = 3_600_000;
const DAY = 24 * HOUR;

/** Agreement between a shadowed candidate and the primary over a time window. */
export async function shadowReport(db: Db, opts: ShadowReportOptions = {}): Promise<ShadowReport> {
  const until = opts.now ?? new Date();
  const since = opts.since ?? new Date(until.getTime() - DAY);
  const bucketMs = opts.bucketMs ?? (until.getTime() - since.getTime() <= 7 * DAY ? HOUR : DAY);
  const running = await currentShadow(db.kysely);

  let candidate: { key: string; id: number } | null = null;
  if (opts.candidate !== undefined) {
    const v = await requireVersion(db.kysely, opts.candidate);
    candidate = { key: v.version_key, id: v.id };
  } else if (running) {
    candidate = { key: running.versionKey, id: running.versionId };
  } else {
    // The candidate of the newest logged query (ordered by the log's own id).
    const last = await db.kysely.selectFrom('shadow_queries').select('candidate_version_id')
      .orderBy('id', 'desc').limit(1).executeTakeFirst();
    const id = last?.candidate_version_id;
    const key = id === undefined ? undefined : (await versionKeysById(db.kysely, { ids: [id] })).get(id);
    if (id !== undefined && key !== undefined) candidate = { key, id };
  }

  const logged = candidate
    ? (await sql<Omit<Row, 'primary_key'> & { primary_version_id: number }>`
        select q.created_at, q.query_sha256, q.query_text, q.segment, q.primary_version_id, q.k,
               q.primary_ids, q.candidate_ids, q.overlap_at_k, q.jaccard, q.rbo, q.primary_ms, q.candidate_ms
        from shadow_queries q
        where q.candidate_version_id = ${candidate.id}
          and q.created_at >= ${since} and q.created_at <= ${until}
        order by q.created_at, q.id`.execute(db.kysely)).rows
    : [];
  const primaryKeys = await versionKeysById(db.kysely, { ids: [...new Set(logged.map((r) => Number(r.primary_version_id)))] });
  const rows: Row[] = logged.map(({ primary_version_id, ...r }) => normalize({ ...r, primary_key: primaryKeys.get(Number(primary_version_id))! }));

  const bySegment = new Map<string | null, Row[]>();
  for (const r of rows) {
    const list = bySegment.get(r.segment);
    if (list) list.push(r);
    else bySegment.set(r.segment, [r]);
  }
  const segments = [...bySegment.entries()]
    .map(([segment, list]) => ({ segment, ...summarize(list) }))
    .sort((a, b) => (a.segment === null ? 1 : b.segment === null ? -1 : a.segment.localeCompare(b.segment)));

  const stored = candidate ? await storedShadowDrops(db.kysely, candidate.id, since, until) : { dropped: 0, failed: 0 };

  return {
    candidate,
    config: running && candidate && running.versionId === candidate.id ? running : null,
    since,
    until,
    primaries: [...new Set(rows.map((r) => r.primary_key))].sort(),
    overall: summarize(rows),
    segments,
    lowestOverlap: lowest(rows, opts.worst ?? 10),
    distributions: {
      overlap: rows.map((r) => r.overlap_at_k),
      rbo: rows.map((r) => r.rbo),
      jaccard: rows.map((r) => r.jaccard),
      latencyDeltaMs: rows.map((r) => r.candidate_ms - r.primary_ms),
    },
    timeSeries: buckets(rows, since, bucketMs),
    bucketMs,
    // Stored counts from every serving process, plus what this process has not flushed yet.
    dropped: stored.dropped + (opts.live?.unflushedDropped ?? 0),
    failed: stored.failed + (opts.live?.unflushedFailed ?? 0),
  };
}

function normalize(r: Row): Row {
  return {
    ...r,
    created_at: new Date(r.created_at),
    k: Number(r.k),
    overlap_at_k: Number(r.overlap_at_k),
    jaccard: Number(r.jaccard),
    rbo: Number(r.rbo),
    primary_ms: Number(r.primary_ms),
    candidate_ms: Number(r.candidate_ms),
    primary_ids: (r.primary_ids ?? []).map(Number),
    candidate_ids: (r.candidate_ids ?? []).map(Number),
  };
}

export function summarize(rows: readonly Pick<Row, 'overlap_at_k' | 'rbo' | 'jaccard' | 'primary_ms' | 'candidate_ms'>[]): AgreementSummary {
  const overlap = rows.map((r) => r.overlap_at_k);
  const rbo = rows.map((r) => r.rbo);
  const delta = rows.map((r) => r.candidate_ms - r.primary_ms);
  const pm = rows.map((r) => r.primary_ms);
  const cm = rows.map((r) => r.candidate_ms);
  return {
    count: rows.length,
    overlap: { mean: mean(overlap), p10: quantile(overlap, 0.1) },
    rbo: { mean: mean(rbo), p10: quantile(rbo, 0.1) },
    jaccard: { mean: mean(rows.map((r) => r.jaccard)) },
    latencyDeltaMs: { p50: quantile(delta, 0.5), p95: quantile(delta, 0.95) },
    primaryMs: { p50: quantile(pm, 0.5), p95: quantile(pm, 0.95) },
    candidateMs: { p50: quantile(cm, 0.5), p95: quantile(cm, 0.95) },
  };
}

/** Distinct queries (by hash) with the lowest overlap, each at its worst occurrence. */
function lowest(rows: readonly Row[], n: number): LowOverlapQuery[] {
  const byHash = new Map<string, { worst: Row; times: number; text: string | null }>();
  for (const r of rows) {
    const h = Buffer.from(r.query_sha256).toString('hex');
    const e = byHash.get(h);
    if (!e) byHash.set(h, { worst: r, times: 1, text: r.query_text });
    else {
      e.times++;
      e.text ??= r.query_text;
      if (worse(r, e.worst)) e.worst = r;
    }
  }
  return [...byHash.entries()]
    .sort(([, a], [, b]) => (worse(a.worst, b.worst) ? -1 : worse(b.worst, a.worst) ? 1 : 0))
    .slice(0, n)
    .map(([sha256, e]) => ({
      sha256, text: e.text, segment: e.worst.segment, overlap: e.worst.overlap_at_k, rbo: e.worst.rbo,
      times: e.times, at: e.worst.created_at, primaryIds: e.worst.primary_ids, candidateIds: e.worst.candidate_ids,
    }));
}

function worse(a: Row, b: Row): boolean {
  if (a.overlap_at_k !== b.overlap_at_k) return a.overlap_at_k < b.overlap_at_k;
  if (a.rbo !== b.rbo) return a.rbo < b.rbo;
  return a.created_at.getTime() > b.created_at.getTime();
}

function buckets(rows: readonly Row[], since: Date, bucketMs: number): ShadowReport['timeSeries'] {
  const acc = new Map<number, { count: number; overlap: number; rbo: number }>();
  const origin = Math.floor(since.getTime() / bucketMs) * bucketMs; // aligned: whole hours / days (UTC)
  for (const r of rows) {
    const start = origin + Math.floor((r.created_at.getTime() - origin) / bucketMs) * bucketMs;
    const b = acc.get(start) ?? { count: 0, overlap: 0, rbo: 0 };
    b.count++;
    b.overlap += r.overlap_at_k;
    b.rbo += r.rbo;
    acc.set(start, b);
  }
  return [...acc.entries()].sort(([a], [b]) => a - b).map(([start, b]) => ({
    bucketStart: new Date(start), count: b.count, meanOverlap: b.overlap / b.count, meanRbo: b.rbo / b.count,
  }));
}
