/**
 * `summarizeShadow`: agreement of a shadowed candidate with the primary over a
 * time window. Every figure is an aggregate computed by the database
 * (summary-query.ts); only bounded results come back.
 */
import type { Db } from '../db/index.js';
import { requireVersion } from '../versions/index.js';
import { currentShadow, type ShadowTarget } from './config.js';
import {
  agreementSeries,
  agreementStats,
  lastLoggedCandidate,
  recentValues,
  shadowPrimaryKeys,
  storedDrops,
  worstQueries,
  type AgreementStats,
  type LowOverlapQuery,
} from './summary-query.js';

export type { LowOverlapQuery } from './summary-query.js';

export interface ShadowSummaryOptions {
  /** Candidate version key. Default: the one shadowed now, else the last one logged. */
  candidate?: string;
  /** Start of the window. Default: 24 hours before `now`. */
  since?: Date;
  now?: Date;
  /** How many low-overlap queries to list. Default 10. */
  worst?: number;
  /** Width of a time-series bucket. Default: an hour for windows up to 7 days, else a day. */
  bucketMs?: number;
  /** Per-query values returned in `distributions`, the newest ones. Default DISTRIBUTION_LIMIT. */
  distributionLimit?: number;
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

export interface ShadowSummary {
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
  /** Per-query values, in time order, for histograms: the newest `distributionLimit` queries of the window. */
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

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
/** Per-query values returned in `distributions` at most (the newest ones). */
export const DISTRIBUTION_LIMIT = 10_000;

/** Agreement between a shadowed candidate and the primary over a time window. */
export async function summarizeShadow(db: Db, opts: ShadowSummaryOptions = {}): Promise<ShadowSummary> {
  const until = opts.now ?? new Date();
  const since = opts.since ?? new Date(until.getTime() - DAY);
  const bucketMs = opts.bucketMs ?? (until.getTime() - since.getTime() <= 7 * DAY ? HOUR : DAY);
  const running = await currentShadow(db.kysely);

  let candidate: { key: string; id: number } | null;
  if (opts.candidate !== undefined) {
    const v = await requireVersion(db.kysely, opts.candidate);
    candidate = { key: v.version_key, id: v.id };
  } else if (running) {
    candidate = { key: running.versionKey, id: running.versionId };
  } else {
    candidate = (await lastLoggedCandidate(db.kysely)) ?? null;
  }

  if (!candidate) {
    return {
      candidate,
      config: null,
      since,
      until,
      primaries: [],
      overall: EMPTY,
      segments: [],
      lowestOverlap: [],
      distributions: { overlap: [], rbo: [], jaccard: [], latencyDeltaMs: [] },
      timeSeries: [],
      bucketMs,
      dropped: opts.live?.unflushedDropped ?? 0,
      failed: opts.live?.unflushedFailed ?? 0,
    };
  }
  const k = db.kysely;
  const scope = { candidateId: candidate.id, since, until };
  const [overall, bySegment, primaries, lowestOverlap, distributions, series, stored] = await Promise.all([
    agreementStats(k, scope),
    agreementStats(k, scope, { bySegment: true }),
    shadowPrimaryKeys(k, scope),
    worstQueries(k, scope, opts.worst ?? 10),
    recentValues(k, scope, opts.distributionLimit ?? DISTRIBUTION_LIMIT),
    agreementSeries(k, scope, bucketMs),
    storedDrops(k, scope),
  ]);
  const segments = bySegment
    .map((s) => ({ segment: s.segment, ...summary(s) }))
    .sort((a, b) => (a.segment === null ? 1 : b.segment === null ? -1 : a.segment.localeCompare(b.segment)));

  return {
    candidate,
    config: running && running.versionId === candidate.id ? running : null,
    since,
    until,
    primaries,
    overall: summary(overall),
    segments,
    lowestOverlap,
    distributions,
    timeSeries: series.map((b) => ({
      bucketStart: b.start,
      count: b.n,
      meanOverlap: b.meanOverlap,
      meanRbo: b.meanRbo,
    })),
    bucketMs,
    // Stored counts from every serving process, plus what this process has not flushed yet.
    dropped: stored.dropped + (opts.live?.unflushedDropped ?? 0),
    failed: stored.failed + (opts.live?.unflushedFailed ?? 0),
  };
}

const EMPTY: AgreementSummary = {
  count: 0,
  overlap: { mean: null, p10: null },
  rbo: { mean: null, p10: null },
  jaccard: { mean: null },
  latencyDeltaMs: { p50: null, p95: null },
  primaryMs: { p50: null, p95: null },
  candidateMs: { p50: null, p95: null },
};

/** The report's view of one row of agreement statistics. */
function summary(s: AgreementStats): AgreementSummary {
  return {
    count: s.n,
    overlap: { mean: s.overlap.mean, p10: s.overlap.p10 },
    rbo: { mean: s.rbo.mean, p10: s.rbo.p10 },
    jaccard: { mean: s.jaccard.mean },
    latencyDeltaMs: { p50: s.latencyDeltaMs.p50, p95: s.latencyDeltaMs.p95 },
    primaryMs: { p50: s.primaryMs.p50, p95: s.primaryMs.p95 },
    candidateMs: { p50: s.candidateMs.p50, p95: s.candidateMs.p95 },
  };
}
