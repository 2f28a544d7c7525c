/**
 * `loadReportModel(db, { candidate?, baseline? })`: everything the upgrade
 * report shows, read from the database into the typed `ReportModel`.
 *
 * Defaults: the candidate is the most recently evaluated or activated
 * version that is not retired (else the newest non-retired version); the
 * baseline is the version the candidate was last compared to, else the
 * version active before it (or the active one, when the candidate is not).
 */
import { markDeadRunsIfWritable } from '../backfill/index.js';
import type { Db } from '../db/index.js';
import type { VersionRow } from '../versions/index.js';
import { InputError, NotFoundError } from '../errors.js';
import { parseStoredRun } from '../evaluate/index.js';
import { adaptEvaluation } from './evaluation/adapt.js';
import * as q from './queries.js';
import {
  agreementHistogram,
  agreementSeries,
  agreementStats,
  shadowPrimaryKeys,
  storedDrops,
  type AgreementStats,
} from '../shadow/index.js';
import { loadTradeoff } from './tradeoff.js';
import { computeVerdict } from './verdict.js';
import {
  REPORT_MODEL_VERSION,
  type BackfillSection,
  type Distribution,
  type EvaluationSection,
  type EvaluationRunSummary,
  type ReportEvent,
  type ReportModel,
  type ReportVersion,
  type ShadowSection,
} from './types.js';

export * from './types.js';

export interface LoadReportOptions {
  candidate?: string;
  baseline?: string;
  /** Newest audit events kept (default 500). */
  eventLimit?: number;
  /** Versions drawn on the timeline (default 8). */
  timelineVersions?: number;
  now?: Date;
}

const iso = (d: Date | string | null | undefined): string | null => (d == null ? null : new Date(d).toISOString());

export async function loadReportModel(db: Db, opts: LoadReportOptions = {}): Promise<ReportModel> {
  const k = db.kysely;
  // A killed backfill's row is closed with what it committed, so its cost is in the report.
  await markDeadRunsIfWritable(k);
  const rows = await q.versionRows(k);
  const versions = rows.map(toVersion);
  const byKey = new Map(versions.map((v) => [v.key, v]));
  const byId = new Map(versions.map((v) => [v.id, v]));
  const lookup = (key: string, role: string): ReportVersion => {
    const v = byKey.get(key);
    if (v) return v;
    throw new NotFoundError(
      `no version "${key}" for the ${role}${versions.length ? ` (known: ${versions.map((x) => x.key).join(', ')})` : ''}`,
    );
  };

  const candidate = opts.candidate ? lookup(opts.candidate, 'candidate') : await defaultCandidate(db, versions, byId);
  let baseline = opts.baseline
    ? lookup(opts.baseline, 'baseline')
    : candidate
      ? await defaultBaseline(db, candidate, versions, byId)
      : null;
  if (baseline && candidate && baseline.id === candidate.id) {
    if (opts.baseline) throw new InputError(`the baseline must differ from the candidate ("${candidate.key}")`);
    baseline = null;
  }
  const active = versions.find((v) => v.active) ?? null;

  const lanes = timelineVersions(versions, candidate, baseline, active, opts.timelineVersions ?? 8);
  const events = (
    await q.eventsOf(
      k,
      lanes.map((v) => v.id),
      opts.eventLimit ?? 500,
    )
  ).map(toEvent);

  const evaluationHistory = candidate ? await loadEvaluationHistory(db, candidate) : [];
  const evaluation = candidate ? await loadEvaluation(db, candidate, baseline, evaluationHistory, byId) : null;
  const shadow = candidate ? await loadShadow(db, candidate) : null;
  const backfill = await loadBackfill(db, versions);
  const tradeoff = await loadTradeoff(db, rows, evaluation?.judgedSet ?? null);

  const model: Omit<ReportModel, 'verdict'> = {
    modelVersion: REPORT_MODEL_VERSION,
    generatedAt: (opts.now ?? new Date()).toISOString(),
    database: db.location,
    candidate,
    baseline,
    activeKey: active?.key ?? null,
    versions,
    events,
    evaluation,
    evaluationHistory,
    shadow,
    backfill,
    tradeoff,
  };
  return { ...model, verdict: computeVerdict(model) };
}

function toVersion(r: VersionRow): ReportVersion {
  return {
    id: r.id,
    key: r.version_key,
    encoderSpec: r.encoder_spec,
    encoderName: r.encoder_name,
    encoderRevision: r.encoder_revision,
    dimensions: r.dimensions,
    metric: r.distance_metric,
    indexKind: r.index_kind,
    indexStorage: r.index_storage,
    state: r.state,
    active: r.active,
    createdAt: iso(r.created_at)!,
    retiredAt: iso(r.retired_at),
  };
}

const SECRET_KEY = /(api[_-]?key|token$|secret|passw(or)?d|authorization|credential)/i; // "tokens" (a count) is not a secret

/** Audit details as stored, minus anything that looks like a secret (secrets never appear in a report, a log or --json output). */
export function redactDetails(value: unknown, depth = 0): unknown {
  if (depth > 6) return '…';
  if (typeof value === 'string') {
    return value.replace(/(\w+:\/\/[^:/@\s]+):[^@/\s]+@/g, '$1:***@').replace(/\bsk-[A-Za-z0-9_-]{12,}/g, 'sk-***');
  }
  if (Array.isArray(value)) return value.map((v) => redactDetails(v, depth + 1));
  if (value && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[k] = SECRET_KEY.test(k) ? '***' : redactDetails(v, depth + 1);
    return out;
  }
  return value;
}

function toEvent(r: Awaited<ReturnType<typeof q.eventsOf>>[number]): ReportEvent {
  const details = r.details && typeof r.details === 'object' && !Array.isArray(r.details) ? r.details : {};
  return {
    id: r.id,
    versionKey: r.version_key,
    event: r.event,
    actor: r.actor,
    reason: r.reason,
    forced: r.forced,
    details: redactDetails(details) as Record<string, unknown>,
    at: iso(r.created_at)!,
  };
}

async function defaultCandidate(
  db: Db,
  versions: ReportVersion[],
  byId: Map<number, ReportVersion>,
): Promise<ReportVersion | null> {
  const [evaluated, activated] = await Promise.all([q.latestEvaluation(db.kysely), q.latestActivation(db.kysely)]);
  const pick = [evaluated, activated]
    .filter((x): x is { versionId: number; at: Date } => x !== undefined)
    .sort((a, b) => new Date(b.at).getTime() - new Date(a.at).getTime())[0];
  if (pick) return byId.get(pick.versionId) ?? null;
  const live = versions.filter((v) => v.state !== 'retired');
  return live.filter((v) => !v.active).at(-1) ?? live.at(-1) ?? null;
}

async function defaultBaseline(
  db: Db,
  candidate: ReportVersion,
  versions: ReportVersion[],
  byId: Map<number, ReportVersion>,
): Promise<ReportVersion | null> {
  const compared = await q.lastComparedBaseline(db.kysely, candidate.id);
  if (compared !== undefined && compared !== candidate.id) return byId.get(compared) ?? null;
  if (!candidate.active) return versions.find((v) => v.active) ?? null;
  // The candidate is active: the version that was active before its last activation.
  const history = await q.activationEvents(db.kysely);
  let lastOwn = -1;
  history.forEach((e, i) => {
    if (e.event === 'activated' && e.versionId === candidate.id) lastOwn = i;
  });
  for (let i = lastOwn - 1; i >= 0; i--) {
    const e = history[i]!;
    if (e.event === 'activated' && e.versionId !== null && e.versionId !== candidate.id)
      return byId.get(e.versionId) ?? null;
  }
  return null;
}

/** The versions drawn as timeline lanes: candidate, baseline, active, then the newest others (retired ones last). */
function timelineVersions(
  versions: ReportVersion[],
  candidate: ReportVersion | null,
  baseline: ReportVersion | null,
  active: ReportVersion | null,
  max: number,
): ReportVersion[] {
  const chosen = new Map<number, ReportVersion>();
  for (const v of [candidate, baseline, active]) if (v) chosen.set(v.id, v);
  const newest = [...versions].reverse();
  for (const v of [...newest.filter((x) => x.state !== 'retired'), ...newest.filter((x) => x.state === 'retired')]) {
    if (chosen.size >= max) break;
    chosen.set(v.id, v);
  }
  return versions.filter((v) => chosen.has(v.id));
}

async function loadEvaluationHistory(db: Db, candidate: ReportVersion): Promise<EvaluationRunSummary[]> {
  const rows = await q.evaluationRunsOf(db.kysely, candidate.id, 20);
  return rows.map((r) => ({
    runId: r.id,
    candidateKey: candidate.key,
    baselineKey: r.baseline_key ?? null,
    judgedSet: r.judged_set_name,
    gated: r.gated,
    passed: r.passed,
    createdAt: iso(r.created_at)!,
    actor: r.actor,
  }));
}

async function loadEvaluation(
  db: Db,
  candidate: ReportVersion,
  baseline: ReportVersion | null,
  history: EvaluationRunSummary[],
  byId: Map<number, ReportVersion>,
): Promise<EvaluationSection | null> {
  // The latest run against this baseline, else the latest run at all.
  const chosen = (baseline && history.find((h) => h.baselineKey === baseline.key)) || history[0];
  if (!chosen) return null;
  const run = await q.evaluationRun(db.kysely, chosen.runId);
  if (!run) return null;
  const baselineVersion = run.baseline_version_id !== null ? (byId.get(run.baseline_version_id) ?? null) : baseline;
  const own = baselineVersion ? await q.ownRunOn(db.kysely, baselineVersion.id, run.judged_set_name) : undefined;
  const adapted = adaptEvaluation(
    parseStoredRun(run, candidate.key),
    own ? parseStoredRun(own, baselineVersion?.key) : null,
  );
  if (adapted.labels?.judges.length) {
    const calibrations = await q.latestCalibrations(
      db.kysely,
      adapted.labels.judges.map((j) => j.judge),
    );
    for (const j of adapted.labels.judges) j.calibration = calibrations.get(j.judge) ?? null;
  }
  return {
    runId: run.id,
    judgedSet: run.judged_set_name,
    judgedSetSha256: run.judged_set_sha256,
    createdAt: iso(run.created_at)!,
    actor: run.actor,
    gated: run.gated,
    passed: run.passed,
    candidateKey: candidate.key,
    baselineKey: baselineVersion?.key ?? null,
    ...adapted,
  };
}

/** Bucket width for the time series: the smallest "round" width giving at most ~48 points. */
export function bucketSecondsFor(spanSeconds: number, maxPoints = 48): number {
  const widths = [
    1, 5, 10, 30, 60, 300, 600, 900, 1800, 3600, 7200, 10800, 21600, 43200, 86400, 172800, 604800, 2592000,
  ];
  return widths.find((w) => spanSeconds / w <= maxPoints) ?? widths.at(-1)!;
}

function distribution(
  rows: { bin: number; n: number }[],
  bins: { lo: number; hi: number; label?: string }[],
  mean: number | null,
  p10: number | null,
  p50: number | null,
): Distribution {
  const counts = new Map(rows.map((r) => [r.bin, r.n]));
  return {
    bins: bins.map((b, i) => ({ ...b, count: counts.get(i) ?? 0 })),
    total: rows.reduce((a, r) => a + r.n, 0),
    mean,
    p10,
    p50,
  };
}

const equalBins = (n: number) => Array.from({ length: n }, (_, i) => ({ lo: i / n, hi: (i + 1) / n }));

async function loadShadow(db: Db, candidate: ReportVersion): Promise<ShadowSection | null> {
  const k = db.kysely;
  const scope = { candidateId: candidate.id }; // the whole log of the candidate
  const s = await agreementStats(k, scope);
  if (s.n === 0) return null;
  const discreteK = s.kinds === 1 && s.k !== null && s.k <= 20 ? s.k : undefined;
  const overlapBins = discreteK
    ? Array.from({ length: discreteK + 1 }, (_, i) => ({
        lo: i / discreteK,
        hi: i / discreteK,
        label: `${i}/${discreteK}`,
      }))
    : equalBins(10);
  const span = s.firstAt && s.lastAt ? (s.lastAt.getTime() - s.firstAt.getTime()) / 1000 : 0;
  const bucketSeconds = bucketSecondsFor(span);
  const [primaryKeys, drops, overlapRows, rboRows, series, segments] = await Promise.all([
    shadowPrimaryKeys(k, scope),
    // 0 when shadow_drops predates migration 0002.
    storedDrops(k, scope).catch(() => ({ dropped: 0, failed: 0 })),
    agreementHistogram(k, scope, 'overlap_at_k', { bins: 10, discreteK }),
    agreementHistogram(k, scope, 'rbo', { bins: 10 }),
    agreementSeries(k, scope, bucketSeconds * 1000),
    agreementStats(k, scope, { bySegment: true, limit: 20 }),
  ]);
  const lat = (m: AgreementStats['primaryMs']) =>
    m.p50 === null || m.p95 === null || m.p99 === null || m.mean === null
      ? null
      : { p50: m.p50, p95: m.p95, p99: m.p99, mean: m.mean };
  const primary = lat(s.primaryMs);
  const cand = lat(s.candidateMs);
  return {
    candidateKey: candidate.key,
    primaryKeys,
    queries: s.n,
    dropped: drops.dropped,
    failed: drops.failed,
    k: s.k,
    firstAt: iso(s.firstAt),
    lastAt: iso(s.lastAt),
    overlap: distribution(overlapRows, overlapBins, s.overlap.mean, s.overlap.p10, s.overlap.p50),
    rbo: distribution(rboRows, equalBins(10), s.rbo.mean, s.rbo.p10, s.rbo.p50),
    bucketSeconds,
    series: series.map((p) => ({
      at: p.start.toISOString(),
      queries: p.n,
      meanOverlap: p.meanOverlap,
      meanRbo: p.meanRbo,
    })),
    latency: primary && cand ? { primary, candidate: cand } : null,
    segments: segments.map((r) => ({
      segment: r.segment ?? '(none)',
      queries: r.n,
      meanOverlap: r.overlap.mean!,
      meanRbo: r.rbo.mean!,
    })),
  };
}

async function loadBackfill(db: Db, versions: ReportVersion[]): Promise<BackfillSection[]> {
  const rows = await q.backfillByVersion(
    db.kysely,
    versions.map((v) => v.id),
  );
  return rows.map((r) => ({
    versionKey: r.version_key,
    runs: r.runs,
    completedRuns: r.completed,
    failedRuns: r.failed,
    running: r.running,
    lastStatus: r.last_status,
    embedded: r.embedded,
    reused: r.reused,
    tokens: r.tokens,
    costUsd: r.cost_usd,
    encoderRequests: r.encoder_requests,
    rateLimited: r.rate_limited,
    startedAt: iso(r.started_at),
    finishedAt: iso(r.finished_at),
    wallSeconds: r.wall_seconds,
    workerSeconds: r.worker_seconds,
  }));
}
