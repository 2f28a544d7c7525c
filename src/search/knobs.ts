import { sql, type Kysely } from 'kysely';
import type { DB, IndexKind, SettingValues } from '../db/index.js';
import { annIndexName } from '../partitions/index.js';

/**
 * Query-time ANN settings. Every search states all the settings of its index
 * kind, as session settings of the pooled connection it runs on, sent only
 * when that connection has other values (its statement carries them:
 * `withSessionSettings`): a search needs no transaction, and a value one
 * search asked for (`efSearch`) is replaced by the next search's own. Code
 * that runs ANN queries outside the searcher sets its own values with SET
 * LOCAL in a transaction (calibrate.ts); exact scans do not depend on them.
 *
 * Defaults aim at recall@10 ≥ 0.95 against exact search:
 *  - HNSW `ef_search` 200 (pgvector's default is 40), and never below the
 *    number of candidates asked for. Measured recall@10 against exact search
 *    (m 16, ef_construction 64): hash:mixed-384 on a 5k synthetic corpus
 *    0.90 / 0.92 / 1.00 at ef 40 / 100 / 200; uniform random 128-d, 20k rows
 *    (the hardest case) 0.77 / 0.84 / 0.93. 100 missed the 0.95 bar on both;
 *  - IVFFlat `probes` max(10, ceil(√lists));
 *  - pgvector 0.8 iterative index scans (`relaxed_order`) on both index
 *    kinds for a search with a metadata filter, so that rows the filter
 *    removes are replaced by scanning further instead of returning fewer
 *    than k; `hnsw.max_scan_tuples` 20000 (pgvector's default) bounds that
 *    work, and the searcher falls back to exact search when it was not
 *    enough. Without a filter they are off: only retired chunks are removed
 *    after the scan, the first `ef_search` candidates almost always hold k
 *    live ones (when not, the same exact fallback answers), and the
 *    iterative scan's bookkeeping costs the bare query 10–19% at p50 even
 *    when its first batch suffices (50k × 384-d and 1536-d, ef_search 200,
 *    pgvector 0.8.0: bench/results/2026-11-30-search.txt). `iterativeScan` true or false
 *    forces it either way.
 * Both the server's pgvector (0.8.0) and PGlite's (0.8.7) take these settings.
 */
export const DEFAULT_EF_SEARCH = 200;
export const DEFAULT_MAX_SCAN_TUPLES = 20_000;
export const MIN_PROBES = 10;

export interface Knobs {
  efSearch?: number;
  probes?: number;
  maxScanTuples?: number;
  /** pgvector 0.8 iterative index scans (default: on for a filtered search, off otherwise). */
  iterativeScan?: boolean;
}

export interface AppliedKnobs {
  efSearch?: number;
  probes?: number;
  iterativeScan: boolean;
  exact: boolean;
}

export function defaultProbes(lists: number): number {
  return Math.min(lists, Math.max(MIN_PROBES, Math.ceil(Math.sqrt(lists))));
}

/** An IVFFlat index's `lists`, read from its reloptions (it may have been sized at build time). */
export async function ivfflatLists(db: Kysely<DB>, versionId: number): Promise<number | undefined> {
  const { rows } = await sql<{ opts: string[] | null }>`
    select reloptions as opts from pg_class where oid = to_regclass(${annIndexName(versionId)})`.execute(db);
  const opt = rows[0]?.opts?.find((o) => o.startsWith('lists='));
  return opt ? Number(opt.slice('lists='.length)) : undefined;
}

/** The settings one search wants, on the index kind it queries (none for an exact scan). */
export function knobSettings(
  index: { kind: IndexKind; lists?: number },
  knobs: Knobs,
  candidates: number,
  exact: boolean,
  filtered = false,
): { applied: AppliedKnobs; settings: SettingValues } {
  if (exact || index.kind === 'none') return { applied: { iterativeScan: false, exact: true }, settings: {} };
  const iterative = knobs.iterativeScan ?? filtered;
  if (index.kind === 'hnsw') {
    const ef = Math.min(1000, Math.max(knobs.efSearch ?? DEFAULT_EF_SEARCH, candidates));
    const maxScan = knobs.maxScanTuples ?? DEFAULT_MAX_SCAN_TUPLES;
    return {
      applied: { efSearch: ef, iterativeScan: iterative, exact: false },
      settings: {
        'hnsw.ef_search': String(ef),
        'hnsw.iterative_scan': iterative ? 'relaxed_order' : 'off',
        'hnsw.max_scan_tuples': String(maxScan),
      },
    };
  }
  const lists = index.lists ?? 1;
  const probes = Math.min(lists, knobs.probes ?? defaultProbes(lists));
  return {
    applied: { probes, iterativeScan: iterative, exact: false },
    settings: { 'ivfflat.probes': String(probes), 'ivfflat.iterative_scan': iterative ? 'relaxed_order' : 'off' },
  };
}
