/**
 * The size / quality / latency figures of every live version (issue 16:
 * "every version on one chart"): its partition's stored size, the nDCG@10
 * of its latest evaluation on the report's judged set, and the p50
 * per-query search time that evaluation recorded.
 */
import type { Db } from '../db/index.js';
import { storageFigures } from '../derive/index.js';
import { parseStoredRun, type StoredSummary } from '../evaluate/index.js';
import { derivationOf } from '../partitions/index.js';
import type { VersionRow } from '../versions/index.js';
import * as q from './queries.js';
import type { TradeoffPoint, TradeoffSection } from './types.js';

/** The measure the chart's y axis shows, as `embctl evaluate` stores it. */
export const TRADEOFF_METRIC = 'nDCG@10';

export async function loadTradeoff(
  db: Db,
  rows: readonly VersionRow[],
  judgedSet: string | null,
): Promise<TradeoffSection> {
  const byId = new Map(rows.map((r) => [r.id, r]));
  const points: TradeoffPoint[] = [];
  for (const v of rows) {
    if (v.state === 'retired') continue;
    const d = derivationOf(v);
    const storage = await storageFigures(db.kysely, v);
    const point: TradeoffPoint = {
      versionKey: v.version_key,
      derivedFrom: d ? (byId.get(d.parentId)?.version_key ?? d.parentKey) : null,
      transform: d ? `${d.storage}(${d.dimensions})${d.rerank ? `, re-rank ${d.rerank}` : ''}` : null,
      storage: storage && {
        vectors: storage.vectors,
        bytesPerVector: storage.bytesPerVector,
        heapBytes: storage.heapBytes,
        indexBytes: storage.indexBytes,
      },
      ndcg10: null,
      runId: null,
      asBaseline: false,
      latency: null,
    };
    if (judgedSet !== null) Object.assign(point, await latestScores(db, v, judgedSet));
    points.push(point);
  }
  return { judgedSet, points };
}

/** The version's figures from its newest run on the set: its own, or one where it was the baseline. */
async function latestScores(
  db: Db,
  v: VersionRow,
  judgedSet: string,
): Promise<Pick<TradeoffPoint, 'ndcg10' | 'runId' | 'asBaseline' | 'latency'>> {
  const [own, asBaseline] = await Promise.all([
    q.ownRunOn(db.kysely, v.id, judgedSet),
    q.latestRunAsBaselineOn(db.kysely, v.id, judgedSet),
  ]);
  const useBaseline = asBaseline !== undefined && (own === undefined || Number(asBaseline.id) > Number(own.id));
  const row = useBaseline ? asBaseline : own;
  if (!row) return { ndcg10: null, runId: null, asBaseline: false, latency: null };
  const metrics = parseStoredRun(row, v.version_key).metrics;
  const summary: StoredSummary | null = useBaseline ? metrics.baseline : metrics;
  const value = summary?.overall.values[TRADEOFF_METRIC];
  const lat = summary?.latency_ms;
  return {
    ndcg10: typeof value === 'number' ? value : null,
    runId: Number(row.id),
    asBaseline: useBaseline,
    latency: lat ? { p50: lat.p50, queries: lat.queries, concurrency: lat.concurrency } : null,
  };
}
